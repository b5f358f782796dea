// Validation and dispatch: every public entry point checks its arguments here, once, before
// any kernel runs, so the kernels can assume consistent sizes and strides. The CUDA side is
// called through its interface (cuda/postprocess_cuda.hpp) in every build: without CUDA, CMake
// compiles a stub of it that reports no kernels and no devices.
#include "person_segmentation/postprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cpu/postprocess_cpu.hpp"
#include "cuda/postprocess_cuda.hpp"
#include "person_segmentation/constants.hpp"
#include "person_segmentation/runtime.hpp"
#include "view_check.hpp"

namespace person_segmentation {
namespace {

constexpr int64_t kMaxGridSide = kMaxImageSide;  // the logit grid is the model input / 8 or so

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string shape_of(const FloatTensorView& t) {
  std::ostringstream s;
  s << "(" << t.height << ", " << t.width << ", " << t.channels << ")";
  return s.str();
}

const char* device_name(Device d) { return d == Device::kCpu ? "kCpu" : (d == Device::kCuda ? "kCuda" : "invalid"); }

bool is_device(Device d) { return d == Device::kCpu || d == Device::kCuda; }

/// Checks everything about a view that does not depend on the other arguments: device,
/// data, shape (channels in [1, max_channels]), strides and, when given, its extent.
void validate_tensor(const FloatTensorView& t, const char* name, int64_t max_channels) {
  const std::string n(name);
  detail::check_placement(t, n);
  if (t.height < 1 || t.width < 1 || t.channels < 1 || t.height > kMaxGridSide || t.width > kMaxGridSide)
    fail(n + " must have shape (h, w, channels) with 1 <= h, w <= " + std::to_string(kMaxGridSide) +
         " and channels >= 1, got " + shape_of(t));
  if (max_channels == 1 && t.channels != 1) fail(n + " must have exactly 1 channel, got shape " + shape_of(t));
  if (t.channels > max_channels)
    fail(n + " has too many channels (at most " + std::to_string(max_channels) + "): " + shape_of(t));

  const int64_t sizes[3] = {t.height, t.width, t.channels};
  const int64_t strides[3] = {t.stride_height, t.stride_width, t.stride_channels};
  detail::check_addressable(n, sizes, strides, static_cast<int64_t>(sizeof(float)), t.extent, t.data_offset);
}

void validate_common(const FloatTensorView& segment, const ResizePadGeometry& g, const PostprocessOptions& options,
                     const void* out) {
  validate_tensor(segment, "segment_logits", 1);
  validate_geometry(g);
  if (segment.height > g.model_height || segment.width > g.model_width) {
    std::ostringstream s;
    s << "segment_logits grid " << segment.height << "x" << segment.width << " is larger than the model input "
      << g.model_height << "x" << g.model_width;
    fail(s.str());
  }
  if (std::isnan(options.segmentation_threshold)) fail("segmentation_threshold must not be NaN");
  detail::check_num_threads(options.num_threads);
  if (!is_device(options.compute_device))
    fail("compute_device must be Device::kCpu (0) or Device::kCuda (1), got " +
         std::to_string(static_cast<int32_t>(options.compute_device)));
  if (!is_device(options.output_device))
    fail("output_device must be Device::kCpu (0) or Device::kCuda (1), got " +
         std::to_string(static_cast<int32_t>(options.output_device)));
  if (out == nullptr) fail("output buffer is a null pointer");
  // The result's size in bytes must be addressable (matters on 32-bit targets only).
  const uint64_t pixels = static_cast<uint64_t>(g.image_height) * static_cast<uint64_t>(g.image_width);
  if (pixels > static_cast<uint64_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(int32_t))
    fail("image_height * image_width = " + std::to_string(pixels) + " is too large for this platform");
}

/// Threads actually used: the request (or one per hardware thread), but never so many that
/// a thread gets less than `pixels_per_thread` output pixels (starting one costs ~30 us).
int32_t resolve_threads(const PostprocessOptions& options, const ResizePadGeometry& g, int64_t pixels_per_thread) {
  return detail::thread_count(options.num_threads, static_cast<int64_t>(g.image_height) * g.image_width,
                              pixels_per_thread);
}

// Work per output pixel is ~1 ns for a mask and several for a part map.
constexpr int64_t kMaskPixelsPerThread = int64_t{1} << 16;
constexpr int64_t kPartPixelsPerThread = int64_t{1} << 15;

/// The options the kernels get: a threshold below every real score (scores are in [0, 1])
/// raised to -0.5, which selects exactly the same real scores and keeps NaN logits (score -1,
/// see pixel::score_of_logit) from being a person even at threshold -inf, as in TensorFlow
/// (sigmoid(NaN) > -inf is false).
PostprocessOptions kernel_options(const PostprocessOptions& options) {
  PostprocessOptions o = options;
  o.segmentation_threshold = std::max(o.segmentation_threshold, -0.5f);
  return o;
}

/// Where this call runs: -1 for the CPU kernels, else the CUDA ordinal of the device the
/// CUDA kernels run on (after checking that they can): the device that owns the logits'
/// memory (from the pointer, not from device_id, which is the producer's own numbering), or
/// for host logits the current device.
int32_t cuda_device_of_call(const FloatTensorView& segment, const FloatTensorView* parts,
                            const PostprocessOptions& options, const void* out, size_t out_element_bytes) {
  if (parts != nullptr && parts->device != segment.device)
    fail(std::string("segment_logits and part_logits must be on the same device, got ") + device_name(segment.device) +
         " and " + device_name(parts->device));
  const bool cuda = segment.device == Device::kCuda || options.compute_device == Device::kCuda;
  if (!cuda) {
    if (options.output_device == Device::kCuda)
      fail("output_device kCuda needs the CUDA kernels (CUDA logits or compute_device kCuda)");
    return -1;
  }
  if (!cuda::compiled())
    throw std::runtime_error(
        "CUDA post-processing was requested but this build has no CUDA support (see build_info())");
  if (cuda::device_count() == 0)
    throw std::runtime_error("CUDA post-processing was requested but no CUDA device is available: " +
                             cuda_runtime_info().unavailable_reason + " (see build_info())");
  int32_t device = 0;
  if (segment.device == Device::kCuda) {
    device = cuda::device_of_pointer(segment.data, "segment_logits.data");
    if (parts != nullptr) {
      const int32_t parts_device = cuda::device_of_pointer(parts->data, "part_logits.data");
      if (parts_device != device)
        fail("segment_logits and part_logits must be on the same CUDA device, got devices " + std::to_string(device) +
             " and " + std::to_string(parts_device));
    }
  } else {
    device = cuda::current_device();
  }
  const std::string unusable = cuda::device_unusable_reason(device);
  if (!unusable.empty())
    throw std::runtime_error("CUDA device " + std::to_string(device) + " cannot run the kernels: " + unusable);
  if (parts != nullptr && parts->channels > cuda::kMaxCudaPartChannels)
    fail("the CUDA kernels take at most " + std::to_string(cuda::kMaxCudaPartChannels) + " part channels, got " +
         std::to_string(parts->channels));
  if (options.output_device == Device::kCuda) {
    if (reinterpret_cast<uintptr_t>(out) % out_element_bytes != 0)
      fail("the output buffer must be aligned to " + std::to_string(out_element_bytes) + " bytes");
    const int32_t out_device = cuda::device_of_pointer(out, "the output buffer (output_device kCuda)");
    if (out_device != device)
      fail("the output buffer is on CUDA device " + std::to_string(out_device) + " but the kernels run on device " +
           std::to_string(device));
  }
  return device;
}

/// The part map's own checks: the part logits, on the segment logits' grid, and the int32
/// output's alignment.
void validate_parts(const FloatTensorView& segment_logits, const FloatTensorView& part_logits, const int32_t* out) {
  validate_tensor(part_logits, "part_logits", kMaxPartChannels);
  if (part_logits.height != segment_logits.height || part_logits.width != segment_logits.width)
    fail("part_logits grid " + shape_of(part_logits) + " does not match segment_logits grid " +
         shape_of(segment_logits));
  if (reinterpret_cast<uintptr_t>(out) % alignof(int32_t) != 0)
    fail("the output buffer must be aligned to " + std::to_string(alignof(int32_t)) + " bytes (int32)");
}

/// The probability output's own checks (`function` names the entry point): float32
/// alignment, and host results only (output_device kCpu).
void validate_host_probability(const float* probability, const PostprocessOptions& options, const char* function) {
  if (reinterpret_cast<uintptr_t>(probability) % alignof(float) != 0)
    fail("the probability buffer must be aligned to " + std::to_string(alignof(float)) + " bytes (float32)");
  if (options.output_device != Device::kCpu)
    fail(std::string(function) + " writes to host memory only (output_device must be kCpu)");
}

}  // namespace

int32_t postprocess_cuda_device(const FloatTensorView& segment_logits, const PostprocessOptions& options) {
  validate_tensor(segment_logits, "segment_logits", 1);
  PostprocessOptions o = options;
  o.output_device = Device::kCpu;
  return cuda_device_of_call(segment_logits, nullptr, o, nullptr, 1);
}

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options_in, uint8_t* out) {
  validate_common(segment_logits, geometry, options_in, out);
  const PostprocessOptions options = kernel_options(options_in);
  const int32_t device = cuda_device_of_call(segment_logits, nullptr, options, out, sizeof(uint8_t));
  if (device >= 0) {
    cuda::person_mask(segment_logits, geometry, options, device, out);
    return;
  }
  cpu::person_mask(segment_logits, geometry, options, resolve_threads(options, geometry, kMaskPixelsPerThread), out);
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options_in, int32_t* out) {
  validate_common(segment_logits, geometry, options_in, out);
  const PostprocessOptions options = kernel_options(options_in);
  validate_parts(segment_logits, part_logits, out);
  const int32_t device = cuda_device_of_call(segment_logits, &part_logits, options, out, sizeof(int32_t));
  if (device >= 0) {
    cuda::part_segmentation(segment_logits, part_logits, geometry, options, device, out);
    return;
  }
  cpu::part_segmentation(segment_logits, part_logits, geometry, options,
                         resolve_threads(options, geometry, kPartPixelsPerThread), out);
}

void person_probability(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                        const PostprocessOptions& options_in, float* probability, uint8_t* mask) {
  validate_common(segment_logits, geometry, options_in, probability);
  validate_host_probability(probability, options_in, "person_probability");
  const PostprocessOptions options = kernel_options(options_in);
  const int32_t device = cuda_device_of_call(segment_logits, nullptr, options, probability, sizeof(float));
  if (device >= 0) {
    cuda::person_probability(segment_logits, geometry, options, device, probability);
    if (mask != nullptr) cuda::person_mask(segment_logits, geometry, options, device, mask);
    return;
  }
  cpu::person_mask(segment_logits, geometry, options, resolve_threads(options, geometry, kMaskPixelsPerThread), mask,
                   probability);
}

void part_segmentation_with_probability(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                                        const ResizePadGeometry& geometry, const PostprocessOptions& options_in,
                                        int32_t* out, float* probability) {
  if (probability == nullptr) fail("the probability buffer is a null pointer");
  validate_host_probability(probability, options_in, "part_segmentation_with_probability");
  validate_common(segment_logits, geometry, options_in, out);
  const PostprocessOptions options = kernel_options(options_in);
  validate_parts(segment_logits, part_logits, out);
  const int32_t device = cuda_device_of_call(segment_logits, &part_logits, options, out, sizeof(int32_t));
  if (device >= 0) {
    cuda::part_segmentation(segment_logits, part_logits, geometry, options, device, out);
    cuda::person_probability(segment_logits, geometry, options, device, probability);
    return;
  }
  cpu::part_segmentation(segment_logits, part_logits, geometry, options,
                         resolve_threads(options, geometry, kPartPixelsPerThread), out, probability);
}

}  // namespace person_segmentation
