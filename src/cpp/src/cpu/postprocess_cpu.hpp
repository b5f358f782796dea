// CPU kernels. Inputs are validated by the dispatcher (postprocess.cpp) before they get here.
#pragma once

#include <cstdint>

#include "person_segmentation/postprocess.hpp"

namespace person_segmentation::cpu {

/// `out` (the mask) and `probability` (pixel::probability_of_score of the same scores, flipped
/// alike) may each be null, not both.
void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, int32_t num_threads, uint8_t* out, float* probability = nullptr);

/// `probability`, when not null, receives the person probability computed on the way.
void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t num_threads,
                       int32_t* out, float* probability = nullptr);

}  // namespace person_segmentation::cpu
