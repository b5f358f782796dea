// CUDA kernels (compiled only with PERSON_SEGMENTATION_WITH_CUDA). Inputs are validated by
// the dispatcher (postprocess.cpp) before they get here. Logits may be in host memory (they
// are uploaded) or on the device; results are always copied to host memory.
#pragma once

#include <cstdint>

#include "direct_pixel.hpp"
#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::cuda {

/// The most part channels the CUDA kernels take (each thread keeps its scores in registers).
inline constexpr int64_t kMaxParts = direct::kMaxParts;

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, uint8_t* host_out);

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options,
                       int32_t* host_out);

/// Usable devices; 0 when there is no driver or no device.
int32_t device_count();

}  // namespace person_segmentation::cuda
