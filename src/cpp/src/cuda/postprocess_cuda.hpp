// The CUDA side of the post-processing, as the dispatcher (postprocess.cpp) and runtime.cpp
// call it, with or without CUDA: CMake compiles either postprocess_cuda.cu (the kernels) or
// postprocess_cuda_stub.cpp (no CUDA: compiled() is false, no devices, and the entry points,
// which the dispatcher never reaches then, throw std::runtime_error).
//
// Inputs are validated by the dispatcher before they get here. Logits may be in host memory
// (they are uploaded) or on the device; results go to host memory, or (output_device kCuda)
// to device memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/runtime.hpp"
#include "pixel/direct_pixel.hpp"

namespace person_segmentation::cuda {

/// The most part channels the CUDA kernels take (each thread keeps its scores in registers).
inline constexpr int64_t kMaxCudaPartChannels = direct::kMaxDirectParts;

/// Whether this build has the CUDA kernels.
bool compiled();

/// Usable devices (each probed once: the kernels have an image for it); 0 when the kernels
/// are not compiled in, or there is no driver or device.
int32_t device_count();

/// The runtime and driver versions, device counts and why no device is usable (runtime.hpp).
CudaRuntimeInfo runtime_info();

/// The CUDA ordinal of the device that owns `pointer` (cudaPointerGetAttributes): device or
/// managed memory. Throws std::invalid_argument naming `name` for host or unknown memory.
int32_t device_of_pointer(const void* pointer, const char* name);

/// Whether the kernels can run on device `ordinal`; "" if so, else why not (cached).
const char* device_unusable_reason(int32_t ordinal);

/// The device the kernels run on for host logits: the calling thread's current device.
int32_t current_device();

/// Device memory for a result left on the device (cudaMalloc on `ordinal`), and its release
/// (cudaFree, which waits for the work using it). Throws std::runtime_error.
void* allocate(size_t bytes, int32_t ordinal);
void release(void* pointer, int32_t ordinal) noexcept;

/// `device` is the ordinal the kernels run on (the logits' device, or current_device()).
void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, int32_t device, uint8_t* out);

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t device,
                       int32_t* out);

/// The person probability (direct::probability_at) into `out` (host memory).
void person_probability(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                        const PostprocessOptions& options, int32_t device, float* out);

}  // namespace person_segmentation::cuda
