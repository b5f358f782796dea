// CUDA implementation of the fused post-processing (the CUDA interface, postprocess_cuda.hpp,
// of a build with CUDA; postprocess_cuda_stub.cpp is the one without): one thread per output
// pixel, running pixel/direct_pixel.hpp (built on the same per-pixel functions,
// pixel/postprocess_pixel.hpp, as the CPU kernels, in the same order, compiled without FMA
// contraction: --fmad=false), so the results equal the CPU reference; the C++ tests run
// direct_pixel.hpp on the host against the CPU kernels.
//
// Steps: (1) the logits' sigmoid scores on the grid, [part 0..P-1, segment] per cell, into a
// scratch buffer (the logits may be strided); (2) per output pixel, direct::mask_at /
// direct::part_at; (3) the result is copied to the host. Everything runs on the caller's
// stream.
#include "cuda/postprocess_cuda.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "pixel/direct_pixel.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::cuda {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

/// Device memory freed (stream-ordered) when it goes out of scope.
class DeviceBuffer {
 public:
  DeviceBuffer(size_t bytes, cudaStream_t stream) : stream_(stream) {
    check(cudaMallocAsync(&ptr_, bytes == 0 ? 1 : bytes, stream), "cudaMallocAsync");
  }
  ~DeviceBuffer() { cudaFreeAsync(ptr_, stream_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* get() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
};

/// Selects the tensor's device for the scope of a call, restoring the previous one after.
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceScope() { cudaSetDevice(previous_); }

 private:
  int previous_ = 0;
};

using direct::Sampling;

struct Strides {
  const float* data;
  int64_t h, w, c;
};

__global__ void scores_kernel(Strides segment, Strides parts, int32_t num_parts, Sampling s, float* scores) {
  const int64_t cell = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (cell >= static_cast<int64_t>(s.grid_height) * s.grid_width) return;
  const int64_t y = cell / s.grid_width;
  const int64_t x = cell % s.grid_width;
  float* dst = scores + cell * s.channels;
  dst[num_parts] = pixel::score_of_logit(segment.data[y * segment.h + x * segment.w]);
  for (int32_t k = 0; k < num_parts; ++k)
    dst[k] = pixel::score_of_logit(parts.data[y * parts.h + x * parts.w + k * parts.c]);
}

__global__ void mask_kernel(const float* scores, Sampling s, float threshold, bool flip, uint8_t* out) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t y = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= s.image_width || y >= s.image_height) return;
  out[static_cast<int64_t>(y) * s.image_width + pixel::output_column(x, s.image_width, flip)] =
      direct::mask_at(scores, s, y, x, threshold);
}

__global__ void parts_kernel(const float* scores, Sampling s, float threshold, bool flip, int32_t* out) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t y = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= s.image_width || y >= s.image_height) return;
  out[static_cast<int64_t>(y) * s.image_width + pixel::output_column(x, s.image_width, flip)] =
      direct::part_at(scores, s, y, x, threshold);
}

/// The logits as strided device memory: device tensors as they are, host tensors uploaded
/// (compacted) into `staging`.
Strides on_device(const FloatTensorView& t, cudaStream_t stream, DeviceBuffer* staging) {
  if (t.device == Device::kCuda) return Strides{t.data, t.stride_height, t.stride_width, t.stride_channels};
  // Host logits are small (the logit grid): gather them into a compact host copy, upload it.
  const int64_t count = t.height * t.width * t.channels;
  float* host = nullptr;
  check(cudaMallocHost(&host, static_cast<size_t>(count) * sizeof(float)), "cudaMallocHost");
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x)
      for (int64_t k = 0; k < t.channels; ++k)
        host[(y * t.width + x) * t.channels + k] =
            t.data[y * t.stride_height + x * t.stride_width + k * t.stride_channels];
  const cudaError_t copied = cudaMemcpyAsync(staging->get<float>(), host, static_cast<size_t>(count) * sizeof(float),
                                             cudaMemcpyHostToDevice, stream);
  const cudaError_t synced = copied == cudaSuccess ? cudaStreamSynchronize(stream) : copied;
  cudaFreeHost(host);
  check(synced, "uploading logits");
  return Strides{staging->get<float>(), t.width * t.channels, t.channels, 1};
}

template <typename Out, typename Launch>
void run(const FloatTensorView& segment, const FloatTensorView* parts, const ResizePadGeometry& g,
         const PostprocessOptions& options, Out* host_out, const Launch& launch) {
  const int device = segment.device == Device::kCuda ? segment.device_id : 0;
  DeviceScope scope(device);
  cudaStream_t stream = static_cast<cudaStream_t>(options.cuda_stream);
  if (segment.device == Device::kCuda && stream == nullptr) {
    // Device logits from a producer that named no stream (TensorFlow's DLPack export names
    // none, and its streams do not synchronise with ours): wait until they are written.
    check(cudaDeviceSynchronize(), "waiting for the logits' producer");
  }
  const int32_t num_parts = parts ? static_cast<int32_t>(parts->channels) : 0;
  const Sampling s =
      direct::make_sampling(static_cast<int32_t>(segment.height), static_cast<int32_t>(segment.width), num_parts, g);
  const int64_t cells = static_cast<int64_t>(s.grid_height) * s.grid_width;

  DeviceBuffer seg_staging(segment.device == Device::kCuda ? 0 : static_cast<size_t>(cells) * sizeof(float), stream);
  DeviceBuffer part_staging(
      parts && parts->device != Device::kCuda ? static_cast<size_t>(cells * num_parts) * sizeof(float) : 0, stream);
  const Strides seg = on_device(segment, stream, &seg_staging);
  const Strides prt = parts ? on_device(*parts, stream, &part_staging) : Strides{nullptr, 0, 0, 0};

  DeviceBuffer scores(static_cast<size_t>(cells * s.channels) * sizeof(float), stream);
  scores_kernel<<<static_cast<unsigned>((cells + 255) / 256), 256, 0, stream>>>(seg, prt, num_parts, s,
                                                                                scores.get<float>());
  check(cudaGetLastError(), "scores_kernel launch");

  const size_t pixels = static_cast<size_t>(g.image_height) * static_cast<size_t>(g.image_width);
  DeviceBuffer out(pixels * sizeof(Out), stream);
  const dim3 block(32, 8);
  const dim3 grid(static_cast<unsigned>((g.image_width + 31) / 32), static_cast<unsigned>((g.image_height + 7) / 8));
  launch(grid, block, stream, scores.get<float>(), s, out.get<Out>());
  check(cudaGetLastError(), "post-processing kernel launch");
  check(cudaMemcpyAsync(host_out, out.get<Out>(), pixels * sizeof(Out), cudaMemcpyDeviceToHost, stream),
        "copying the result");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

}  // namespace

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& g, const PostprocessOptions& options,
                 uint8_t* host_out) {
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  run(segment_logits, nullptr, g, options, host_out,
      [&](dim3 grid, dim3 block, cudaStream_t stream, const float* scores, const Sampling& s, uint8_t* out) {
        mask_kernel<<<grid, block, 0, stream>>>(scores, s, threshold, flip, out);
      });
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& g, const PostprocessOptions& options, int32_t* host_out) {
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  run(segment_logits, &part_logits, g, options, host_out,
      [&](dim3 grid, dim3 block, cudaStream_t stream, const float* scores, const Sampling& s, int32_t* out) {
        parts_kernel<<<grid, block, 0, stream>>>(scores, s, threshold, flip, out);
      });
}

#ifndef PERSON_SEGMENTATION_MIN_CUDA_ARCH
#define PERSON_SEGMENTATION_MIN_CUDA_ARCH 0
#endif

bool compiled() { return true; }

int32_t device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" / "no device" error
    return 0;
  }
  // Only devices the kernels were compiled for (compute capability >= the oldest built
  // architecture; newer ones run the machine code of their family or JIT the PTX).
  int32_t usable = 0;
  for (int d = 0; d < count; ++d) {
    int major = 0, minor = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    if (major * 10 + minor >= PERSON_SEGMENTATION_MIN_CUDA_ARCH) ++usable;
  }
  return usable;
}

}  // namespace person_segmentation::cuda
