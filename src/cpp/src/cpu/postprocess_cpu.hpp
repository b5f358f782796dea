// CPU kernels. Inputs are validated by the dispatcher (postprocess.cpp) before they get here.
#pragma once

#include <cstdint>

#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::cpu {

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, int32_t num_threads, uint8_t* out);

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t num_threads,
                       int32_t* out);

}  // namespace person_segmentation::cpu
