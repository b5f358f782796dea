// The CUDA side of the post-processing, as the dispatcher (postprocess.cpp) and runtime.cpp
// call it, with or without CUDA: CMake compiles either postprocess_cuda.cu (the kernels) or
// postprocess_cuda_stub.cpp (no CUDA: compiled() is false, no devices, and the entry points,
// which the dispatcher never reaches then, throw std::runtime_error).
//
// Inputs are validated by the dispatcher before they get here. Logits may be in host memory
// (they are uploaded) or on the device; results are always copied to host memory.
#pragma once

#include <cstdint>

#include "person_segmentation/postprocess.hpp"
#include "pixel/direct_pixel.hpp"

namespace person_segmentation::cuda {

/// The most part channels the CUDA kernels take (each thread keeps its scores in registers).
inline constexpr int64_t kMaxCudaPartChannels = direct::kMaxDirectParts;

/// Whether this build has the CUDA kernels.
bool compiled();

/// Usable devices; 0 when the kernels are not compiled in, or there is no driver or device.
int32_t device_count();

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, uint8_t* host_out);

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t* host_out);

}  // namespace person_segmentation::cuda
