// CUDA implementation of the fused post-processing (the CUDA interface, postprocess_cuda.hpp,
// of a build with CUDA; postprocess_cuda_stub.cpp is the one without): one thread per output
// pixel, running pixel/direct_pixel.hpp (built on the same per-pixel functions,
// pixel/postprocess_pixel.hpp, as the CPU kernels, in the same order, compiled without FMA
// contraction: --fmad=false; the sigmoid's exp is the IEEE-only exp_ieee, not libdevice's), so
// the results equal the CPU reference; the C++ tests run direct_pixel.hpp on the host against
// the CPU kernels, and sweep_score_cuda compares the score of all 2^32 float32 logits.
//
// One call, on the caller's stream, with every buffer allocated before the first launch:
//   (1) host logits are gathered into a reusable pinned buffer and uploaded; device logits
//       are read in place (device taken from the pointer);
//   (2) the logits' sigmoid scores on the grid, [part 0..P-1, segment] per cell, into a
//       scratch buffer;
//   (3) per output pixel, direct::mask_at / direct::part_at, either straight into the
//       caller's device buffer (output_device kCuda), or in stripes of rows through a bounded
//       device buffer and a reusable pinned buffer into host memory, part ids as int8 (a
//       quarter of the bytes; widened on the host), so that a large output never needs a large
//       device allocation when a framework holds most of the GPU's memory.
// Whatever fails, the stream is synchronised before the call returns or throws, so no kernel
// still reads the producer's buffer once it has it back.
#include "cuda/postprocess_cuda.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/cuda_common.cuh"
#include "pixel/direct_pixel.hpp"
#include "pixel/postprocess_pixel.hpp"

#ifndef PERSON_SEGMENTATION_MIN_CUDA_ARCH
#define PERSON_SEGMENTATION_MIN_CUDA_ARCH 0
#endif

namespace person_segmentation::cuda {
namespace {

using cuda_common::check;
using cuda_common::DeviceScope;
using cuda_common::error_text;
using cuda_common::StreamSync;

/// Bytes of the bounded device and pinned result buffers (per device): outputs larger than
/// this are computed and copied in stripes of rows.
constexpr size_t kStripeBytes = size_t{16} << 20;
/// Memory our pool keeps cached between calls instead of returning it to the driver.
constexpr uint64_t kPoolReleaseThreshold = uint64_t{64} << 20;

// ---- kernels ------------------------------------------------------------------------------

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

/// Rows [first_row, first_row + rows) of the mask into `out` (row first_row at out[0]).
__global__ void mask_kernel(const float* scores, Sampling s, float threshold, bool flip, int32_t first_row,
                            int32_t rows, uint8_t* out) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t r = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= s.image_width || r >= rows) return;
  out[static_cast<int64_t>(r) * s.image_width + pixel::output_column(x, s.image_width, flip)] =
      direct::mask_at(scores, s, first_row + r, x, threshold);
}

/// Rows of the person probability as mask_kernel.
__global__ void probability_kernel(const float* scores, Sampling s, bool flip, int32_t first_row, int32_t rows,
                                   float* out) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t r = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= s.image_width || r >= rows) return;
  out[static_cast<int64_t>(r) * s.image_width + pixel::output_column(x, s.image_width, flip)] =
      direct::probability_at(scores, s, first_row + r, x);
}

/// Rows of the part map as mask_kernel; `Out` is int32_t, or int8_t for the copy to the host
/// (part ids are -1..31).
template <typename Out>
__global__ void parts_kernel(const float* scores, Sampling s, float threshold, bool flip, int32_t first_row,
                             int32_t rows, Out* out) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t r = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= s.image_width || r >= rows) return;
  out[static_cast<int64_t>(r) * s.image_width + pixel::output_column(x, s.image_width, flip)] =
      static_cast<Out>(direct::part_at(scores, s, first_row + r, x, threshold));
}

// ---- devices: probed once each, with their pool and reusable pinned buffers ---------------

/// Pinned host memory that grows on demand and is reused across calls.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() {
    if (ptr_) cudaFreeHost(ptr_);
  }
  void* reserve(size_t bytes) {
    if (bytes > size_) {
      if (ptr_) cudaFreeHost(ptr_);
      ptr_ = nullptr;
      size_ = 0;
      check(cudaMallocHost(&ptr_, bytes), "cudaMallocHost (pinned staging buffer)");
      size_ = bytes;
    }
    return ptr_;
  }

 private:
  void* ptr_ = nullptr;
  size_t size_ = 0;
};

struct DeviceState {
  std::string unusable;          // "" = usable
  cudaMemPool_t pool = nullptr;  // our own pool (not the device's default one); null: cudaMalloc
  std::mutex lock;               // held for a whole call: the pinned buffers are per device
  PinnedBuffer upload, download;
};

struct Runtime {
  cudaError_t count_status = cudaSuccess;
  int count = 0;
  std::vector<std::unique_ptr<DeviceState>> devices;
};

std::string probe(int d, DeviceState* state) {
  int major = 0, minor = 0;
  cudaError_t st = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d);
  if (st == cudaSuccess) st = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d);
  if (st != cudaSuccess) {
    cudaGetLastError();
    return "cudaDeviceGetAttribute failed: " + error_text(st);
  }
  const std::string cc = "compute capability " + std::to_string(major) + "." + std::to_string(minor);
  if (major * 10 + minor < PERSON_SEGMENTATION_MIN_CUDA_ARCH)
    return cc + " is older than the oldest architecture built (" + std::to_string(PERSON_SEGMENTATION_MIN_CUDA_ARCH) +
           ")";
  try {
    DeviceScope scope(d);
    // The kernels have machine code or PTX for this device (else cudaErrorNoKernelImageForDevice).
    cudaFuncAttributes attributes;
    st = cudaFuncGetAttributes(&attributes, parts_kernel<int32_t>);
    if (st != cudaSuccess) {
      cudaGetLastError();
      return cc + ": the kernels cannot run here (" + error_text(st) + ")";
    }
    int pools = 0;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, d) == cudaSuccess && pools) {
      cudaMemPoolProps props = {};
      props.allocType = cudaMemAllocationTypePinned;
      props.location.type = cudaMemLocationTypeDevice;
      props.location.id = d;
      if (cudaMemPoolCreate(&state->pool, &props) == cudaSuccess) {
        uint64_t threshold = kPoolReleaseThreshold;
        cudaMemPoolSetAttribute(state->pool, cudaMemPoolAttrReleaseThreshold, &threshold);
      } else {
        state->pool = nullptr;
      }
    }
    cudaGetLastError();
  } catch (const std::exception& e) {
    return cc + ": " + e.what();
  }
  return "";
}

Runtime& runtime() {
  static Runtime* rt = [] {
    auto* r = new Runtime;  // never destroyed: the CUDA runtime may already be gone at exit
    r->count_status = cudaGetDeviceCount(&r->count);
    if (r->count_status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no driver" / "no device" error
      r->count = 0;
    }
    for (int d = 0; d < r->count; ++d) {
      r->devices.push_back(std::make_unique<DeviceState>());
      r->devices.back()->unusable = probe(d, r->devices.back().get());
    }
    return r;
  }();
  return *rt;
}

DeviceState& state_of(int32_t device) {
  Runtime& rt = runtime();
  if (device < 0 || device >= rt.count)
    throw std::runtime_error("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(rt.count) +
                             " visible)");
  DeviceState& s = *rt.devices[static_cast<size_t>(device)];
  if (!s.unusable.empty())
    throw std::runtime_error("CUDA device " + std::to_string(device) + " cannot run the kernels: " + s.unusable);
  return s;
}

/// Device memory freed (stream-ordered) when it goes out of scope: from our pool, or
/// cudaMalloc where the device has no memory pools.
class DeviceBuffer {
 public:
  DeviceBuffer(size_t bytes, cudaStream_t stream, cudaMemPool_t pool) : stream_(stream), pool_(pool) {
    const size_t n = bytes == 0 ? 1 : bytes;
    const cudaError_t st = pool ? cudaMallocFromPoolAsync(&ptr_, n, pool, stream) : cudaMalloc(&ptr_, n);
    if (st != cudaSuccess) {
      cudaGetLastError();
      ptr_ = nullptr;
      status_ = st;
    }
  }
  ~DeviceBuffer() {
    if (!ptr_) return;
    if (pool_)
      cudaFreeAsync(ptr_, stream_);
    else
      cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  cudaError_t status() const { return status_; }
  template <typename T>
  T* get() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_;
  cudaMemPool_t pool_;
  cudaError_t status_ = cudaSuccess;
};

/// Gathers a host view into a compact (h, w, c) block at `dst`.
void gather(const FloatTensorView& t, float* dst) {
  for (int64_t y = 0; y < t.height; ++y)
    for (int64_t x = 0; x < t.width; ++x)
      for (int64_t k = 0; k < t.channels; ++k)
        dst[(y * t.width + x) * t.channels + k] =
            t.data[y * t.stride_height + x * t.stride_width + k * t.stride_channels];
}

/// Whether part ids cross to the host as int8 (the default) or, with the environment variable
/// PERSON_SEGMENTATION_CUDA_PART_WIRE=int32, as they are (for gpu_bench.py to measure both).
bool narrow_part_ids() {
  const char* wire = std::getenv("PERSON_SEGMENTATION_CUDA_PART_WIRE");
  return wire == nullptr || std::strcmp(wire, "int32") != 0;
}

/// One host-result transfer: Wire is what the kernel writes and the copy carries, Out what
/// the caller gets.
template <typename Out, typename Wire, typename Launch>
void run_as(const FloatTensorView& segment, const FloatTensorView* parts, const ResizePadGeometry& g,
            const PostprocessOptions& options, int32_t device, Out* out, const Launch& launch);

template <typename Out, typename Launch>
void run(const FloatTensorView& segment, const FloatTensorView* parts, const ResizePadGeometry& g,
         const PostprocessOptions& options, int32_t device, Out* out, const Launch& launch) {
  if constexpr (std::is_same_v<Out, int32_t>) {
    if (narrow_part_ids()) return run_as<Out, int8_t>(segment, parts, g, options, device, out, launch);
  }
  run_as<Out, Out>(segment, parts, g, options, device, out, launch);
}

template <typename Out, typename Wire, typename Launch>
void run_as(const FloatTensorView& segment, const FloatTensorView* parts, const ResizePadGeometry& g,
            const PostprocessOptions& options, int32_t device, Out* out, const Launch& launch) {
  DeviceState& state = state_of(device);
  std::lock_guard<std::mutex> guard(state.lock);
  DeviceScope scope(device);
  cudaStream_t stream = static_cast<cudaStream_t>(options.cuda_stream);
  const bool device_logits = segment.device == Device::kCuda;
  if (device_logits && stream == nullptr && !options.logits_ready_on_stream) {
    // Device logits from a producer that named no stream (TensorFlow's DLPack export names
    // none, and its streams do not synchronise with ours): wait until they are written.
    check(cudaDeviceSynchronize(), "waiting for the logits' producer (cudaDeviceSynchronize)");
  }
  const int32_t num_parts = parts ? static_cast<int32_t>(parts->channels) : 0;
  const Sampling s =
      direct::make_sampling(static_cast<int32_t>(segment.height), static_cast<int32_t>(segment.width), num_parts, g);
  const int64_t cells = static_cast<int64_t>(s.grid_height) * s.grid_width;
  const bool to_host = options.output_device != Device::kCuda;
  const int64_t width = g.image_width;
  const int64_t height = g.image_height;
  int64_t stripe_rows = height;
  if (to_host) stripe_rows = std::max<int64_t>(1, std::min<int64_t>(height, kStripeBytes / (width * sizeof(Wire))));

  StreamSync sync(stream);  // declared first: runs last, after the buffers' frees are queued
  // Every device buffer before the first launch.
  const size_t upload_floats = device_logits ? 0 : static_cast<size_t>(cells * (1 + num_parts));
  DeviceBuffer staging(upload_floats * sizeof(float), stream, state.pool);
  DeviceBuffer scores(static_cast<size_t>(cells * s.channels) * sizeof(float), stream, state.pool);
  check(staging.status(), "allocating the logits' device buffer");
  check(scores.status(), "allocating the scores' device buffer");
  std::unique_ptr<DeviceBuffer> wire;
  if (to_host) {
    // A bounded buffer; halved while the device is short of memory (a framework may hold
    // all but a little of it), down to one row.
    for (;;) {
      wire =
          std::make_unique<DeviceBuffer>(static_cast<size_t>(stripe_rows * width) * sizeof(Wire), stream, state.pool);
      if (wire->status() != cudaErrorMemoryAllocation || stripe_rows == 1) break;
      stripe_rows = (stripe_rows + 1) / 2;
    }
    check(wire->status(), "allocating the result's device buffer");
  }

  Strides seg{segment.data, segment.stride_height, segment.stride_width, segment.stride_channels};
  Strides prt = parts ? Strides{parts->data, parts->stride_height, parts->stride_width, parts->stride_channels}
                      : Strides{nullptr, 0, 0, 0};
  if (!device_logits) {
    // Host logits are small (the logit grid): gathered into the pinned buffer, uploaded.
    auto* host = static_cast<float*>(state.upload.reserve(upload_floats * sizeof(float)));
    gather(segment, host);
    if (parts) gather(*parts, host + cells);
    check(cudaMemcpyAsync(staging.get<float>(), host, upload_floats * sizeof(float), cudaMemcpyHostToDevice, stream),
          "uploading the logits (cudaMemcpyAsync)");
    seg = Strides{staging.get<float>(), segment.width, 1, 1};
    if (parts) prt = Strides{staging.get<float>() + cells, parts->width * num_parts, num_parts, 1};
  }
  scores_kernel<<<static_cast<unsigned>((cells + 255) / 256), 256, 0, stream>>>(seg, prt, num_parts, s,
                                                                                scores.get<float>());
  check(cudaGetLastError(), "launching scores_kernel");

  const dim3 block(32, 8);
  const auto grid_of = [&](int64_t rows) {
    return dim3(static_cast<unsigned>((width + 31) / 32), static_cast<unsigned>((rows + 7) / 8));
  };
  if (!to_host) {
    launch(grid_of(height), block, stream, scores.get<float>(), s, 0, static_cast<int32_t>(height), out);
    check(cudaStreamSynchronize(stream), "running the post-processing kernel");
    return;
  }
  auto* pinned = static_cast<Wire*>(state.download.reserve(static_cast<size_t>(stripe_rows * width) * sizeof(Wire)));
  for (int64_t first = 0; first < height; first += stripe_rows) {
    const int64_t rows = std::min(stripe_rows, height - first);
    launch(grid_of(rows), block, stream, scores.get<float>(), s, static_cast<int32_t>(first),
           static_cast<int32_t>(rows), wire->get<Wire>());
    const size_t n = static_cast<size_t>(rows * width);
    check(cudaMemcpyAsync(pinned, wire->get<Wire>(), n * sizeof(Wire), cudaMemcpyDeviceToHost, stream),
          "copying the result to the host (cudaMemcpyAsync)");
    check(cudaStreamSynchronize(stream), "running the post-processing kernel");
    Out* dst = out + first * width;
    if constexpr (std::is_same_v<Wire, Out>) {
      std::memcpy(dst, pinned, n * sizeof(Out));
    } else {
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(pinned[i]);
    }
  }
}

}  // namespace

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& g, const PostprocessOptions& options,
                 int32_t device, uint8_t* out) {
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  run(segment_logits, nullptr, g, options, device, out,
      [&](dim3 grid, dim3 block, cudaStream_t stream, const float* scores, const Sampling& s, int32_t first,
          int32_t rows, uint8_t* dst) {
        mask_kernel<<<grid, block, 0, stream>>>(scores, s, threshold, flip, first, rows, dst);
        check(cudaGetLastError(), "launching mask_kernel");
      });
}

void person_probability(const FloatTensorView& segment_logits, const ResizePadGeometry& g,
                        const PostprocessOptions& options, int32_t device, float* out) {
  const bool flip = options.flip_horizontal;
  run(segment_logits, nullptr, g, options, device, out,
      [&](dim3 grid, dim3 block, cudaStream_t stream, const float* scores, const Sampling& s, int32_t first,
          int32_t rows, float* dst) {
        probability_kernel<<<grid, block, 0, stream>>>(scores, s, flip, first, rows, dst);
        check(cudaGetLastError(), "launching probability_kernel");
      });
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& g, const PostprocessOptions& options, int32_t device, int32_t* out) {
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  run(segment_logits, &part_logits, g, options, device, out,
      [&](dim3 grid, dim3 block, cudaStream_t stream, const float* scores, const Sampling& s, int32_t first,
          int32_t rows, auto* dst) {
        using Out = std::remove_pointer_t<decltype(dst)>;
        parts_kernel<Out><<<grid, block, 0, stream>>>(scores, s, threshold, flip, first, rows, dst);
        check(cudaGetLastError(), "launching parts_kernel");
      });
}

bool compiled() { return true; }

int32_t device_count() {
  int32_t usable = 0;
  for (const auto& d : runtime().devices) usable += d->unusable.empty() ? 1 : 0;
  return usable;
}

CudaRuntimeInfo runtime_info() {
  CudaRuntimeInfo info;
  int version = 0;
  if (cudaRuntimeGetVersion(&version) == cudaSuccess) info.runtime_version = version;
  version = 0;
  if (cudaDriverGetVersion(&version) == cudaSuccess) info.driver_version = version;
  cudaGetLastError();
  const Runtime& rt = runtime();
  info.devices = rt.count;
  info.usable_devices = device_count();
  const int major = info.runtime_version / 1000;
  const char* floor = major >= 13 ? "R580" : major == 12 ? "R525" : major == 11 ? "R450" : "(see NVIDIA's table)";
  const std::string needs = "the CUDA " + std::to_string(major) + "." +
                            std::to_string(info.runtime_version % 1000 / 10) +
                            " runtime of this build needs a driver of " + floor + " or newer";
  if (rt.count_status != cudaSuccess) {
    info.unavailable_reason = "cudaGetDeviceCount failed: " + error_text(rt.count_status);
    if (info.driver_version == 0)
      info.unavailable_reason += " (no CUDA driver found)";
    else if (rt.count_status == cudaErrorInsufficientDriver || info.driver_version < info.runtime_version)
      info.unavailable_reason += " (the driver supports CUDA " + std::to_string(info.driver_version / 1000) + "." +
                                 std::to_string(info.driver_version % 1000 / 10) + "; " + needs + ")";
  } else if (rt.count == 0) {
    info.unavailable_reason = "no CUDA device is visible";
  } else if (info.usable_devices == 0) {
    for (int d = 0; d < rt.count; ++d)
      info.unavailable_reason += (d ? "; " : "") + std::string("device ") + std::to_string(d) + ": " +
                                 rt.devices[static_cast<size_t>(d)]->unusable;
  }
  return info;
}

int32_t device_of_pointer(const void* pointer, const char* name) {
  cudaPointerAttributes attributes;
  const cudaError_t st = cudaPointerGetAttributes(&attributes, pointer);
  if (st != cudaSuccess) {
    cudaGetLastError();
    throw std::invalid_argument(std::string(name) +
                                " must be CUDA device memory, but cudaPointerGetAttributes failed: " + error_text(st));
  }
  if (attributes.type != cudaMemoryTypeDevice && attributes.type != cudaMemoryTypeManaged)
    throw std::invalid_argument(
        std::string(name) + " must be CUDA device or managed memory, got " +
        (attributes.type == cudaMemoryTypeHost ? "pinned host memory" : "unregistered host memory"));
  return attributes.device;
}

const char* device_unusable_reason(int32_t ordinal) {
  const Runtime& rt = runtime();
  if (ordinal < 0 || ordinal >= rt.count) return "no such device";
  return rt.devices[static_cast<size_t>(ordinal)]->unusable.c_str();
}

int32_t current_device() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  return device;
}

void* allocate(size_t bytes, int32_t ordinal) {
  state_of(ordinal);
  DeviceScope scope(ordinal);
  void* p = nullptr;
  check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc (result left on the device)");
  return p;
}

void release(void* pointer, int32_t ordinal) noexcept {
  if (!pointer) return;
  try {
    DeviceScope scope(ordinal);
    cudaFree(pointer);
  } catch (...) {
  }
}

}  // namespace person_segmentation::cuda
