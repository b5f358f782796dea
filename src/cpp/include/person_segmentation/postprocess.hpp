// Post-processing of the network's low-resolution logits into full-resolution results:
// sigmoid, the two align-corners bilinear scale-backs with the padding crop, strict threshold,
// first-index part argmax with -1 masking and the final horizontal flip, fused so that no
// full-resolution float buffer is ever materialised. (REFERENCE.md sections 3 and 4.)
#pragma once

#include <cstdint>

#include "person_segmentation/constants.hpp"
#include "person_segmentation/geometry.hpp"

namespace person_segmentation {

/// Where a tensor's memory lives.
enum class Device : int32_t { kCpu = 0, kCuda = 1 };

/// A read-only view of a float32 tensor of shape (height, width, channels) with arbitrary
/// element strides (in elements, not bytes; negative or zero allowed). Nothing is owned.
/// `data` is a host pointer for Device::kCpu (`device_id` 0) and a device pointer (of GPU
/// `device_id`) for Device::kCuda. Element (y, x, k) is
/// data[y * stride_height + x * stride_width + k * stride_channels].
///
/// A raw pointer carries no size, so by default the caller guarantees that every addressed
/// element is readable. Set `extent` to have that checked: `data` then points at element
/// `data_offset` of a buffer of `extent` floats (buffer = data - data_offset), and every
/// addressed element must lie inside it (with negative strides, `data_offset` is how far
/// into the buffer `data` points), else std::invalid_argument.
struct FloatTensorView {
  const float* data = nullptr;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  int64_t stride_height = 0;
  int64_t stride_width = 0;
  int64_t stride_channels = 0;
  Device device = Device::kCpu;
  int32_t device_id = 0;
  /// Elements in the buffer `data` points into; -1 = unknown (not checked).
  int64_t extent = -1;
  /// Index of `data[0]` within that buffer (0 <= data_offset < extent); 0 when extent is -1.
  int64_t data_offset = 0;

  /// A C-contiguous (height, width, channels) tensor in host memory (extent unknown).
  static FloatTensorView contiguous(const float* data, int64_t height, int64_t width, int64_t channels) {
    FloatTensorView v;
    v.data = data;
    v.height = height;
    v.width = width;
    v.channels = channels;
    // Wraps instead of overflowing for absurd sizes, which validation rejects anyway.
    v.stride_height = static_cast<int64_t>(static_cast<uint64_t>(width) * static_cast<uint64_t>(channels));
    v.stride_width = channels;
    v.stride_channels = 1;
    return v;
  }
};

struct PostprocessOptions {
  /// A pixel is a person where its score is strictly above this (must not be NaN; +inf: no
  /// pixel is, -inf: every pixel is, except where the segment logits are NaN, never a person).
  float segmentation_threshold = 0.5f;
  /// Reverse the result's columns (the input image was mirrored before the network).
  bool flip_horizontal = false;
  /// Worker threads, >= 0; 0 picks one per hardware thread. Fewer are used for small
  /// outputs, and never more than max(256, hardware threads).
  int32_t num_threads = 0;
  /// Where to compute: kCpu, or kCuda to run the CUDA kernels (host logits are uploaded
  /// first). Logits already on a CUDA device always run on that device.
  Device compute_device = Device::kCpu;
  /// The cudaStream_t to launch on for CUDA work (nullptr: the default stream; the DLPack
  /// stream numbers 1 and 2 are cudaStreamLegacy and cudaStreamPerThread). The call returns
  /// once the result is in `out` (only this stream is waited for).
  void* cuda_stream = nullptr;
  /// For logits on a CUDA device: true when their producer's writes are already ordered
  /// before work on `cuda_stream` (the stream= argument of DLPack's __dlpack__, or the
  /// caller's own stream). false with a null `cuda_stream`: the device is synchronised first
  /// (a producer that named no stream, e.g. TensorFlow).
  bool logits_ready_on_stream = false;
  /// Where `out` is: kCpu (host memory), or kCuda: device memory of the device the kernels run
  /// on (the logits' device; only with CUDA computation), written there without a copy to the
  /// host.
  Device output_device = Device::kCpu;
};

/// Every entry point writes its result to `out`: host memory, or with
/// output_device == kCuda device memory; with CUDA logits only the final uint8/int32 result
/// crosses to the host (as int8 part ids, in stripes through a bounded buffer), or nothing.
/// Data pointers must be aligned to their element type (4 bytes for float logits): a
/// misaligned one is rejected (std::invalid_argument) before any kernel runs. The CUDA device
/// of device logits is taken from their pointer (cudaPointerGetAttributes), not from
/// `device_id`. Every field of every argument is validated
/// first: an inconsistent or out-of-range one (sizes, strides, extent, device, geometry,
/// NaN threshold, negative num_threads, compute_device outside the enum, null pointers)
/// throws std::invalid_argument naming it; std::runtime_error means CUDA was asked for but
/// is unavailable or failed. Limits: 1 <= h, w <= kMaxImageSide (65536; and <= the model
/// input), 1 <= parts <= kMaxPartChannels (1024; 32 on CUDA); the geometry as
/// validate_geometry() checks it. build_summary(), cuda_compiled() and the other run-time
/// queries are in runtime.hpp.
///
/// Where post-processing `segment_logits` with `options` runs: -1 for the CPU kernels, else
/// the CUDA ordinal of the device the CUDA kernels would run on (the one owning the logits'
/// memory, or the current device for host logits with compute_device kCuda). Checks what
/// person_mask checks about the logits and the device; throws as it does.
int32_t postprocess_cuda_device(const FloatTensorView& segment_logits, const PostprocessOptions& options);

/// Person mask: `out` receives image_height * image_width bytes, row-major, 1 = person.
/// `segment_logits` is the network's `segment_2` output, shape (h, w, 1).
/// Throws std::invalid_argument on inconsistent sizes, strides or options.
void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, uint8_t* out);

/// Part map: `out` receives image_height * image_width int32 part ids (0..parts-1, or -1
/// where there is no person), row-major. `part_logits` is `part_heatmap_2`, shape
/// (h, w, parts) with the same h and w as `segment_logits`.
/// Throws std::invalid_argument on inconsistent sizes, strides or options.
void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t* out);

/// Person probability: `probability` receives image_height * image_width float32 values in
/// [0, 1], row-major (flipped like the mask): the full-resolution sigmoid score that
/// person_mask thresholds (0 where NaN logits reach). When `mask` is not null it also receives
/// exactly what person_mask writes, computed from the same scores in the same pass; for every
/// threshold >= 0, mask == (probability > threshold) bit for bit. Results go to host memory
/// (output_device kCpu: kCuda is refused); logits on a CUDA device run on the CUDA kernels.
/// Throws as person_mask does.
void person_probability(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                        const PostprocessOptions& options, float* probability, uint8_t* mask = nullptr);

/// part_segmentation, and the person probability (as person_probability) into `probability`
/// in the same pass on the CPU. Host results only (output_device kCpu).
void part_segmentation_with_probability(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                                        const ResizePadGeometry& geometry, const PostprocessOptions& options,
                                        int32_t* out, float* probability);

}  // namespace person_segmentation
