// CPU kernel of the pre-processing. Inputs are validated by preprocess.cpp first.
#pragma once

#include <cstdint>

#include "person_segmentation/preprocess.hpp"

namespace person_segmentation::cpu {

void resize_pad_normalize(const ImageView& image, const ResizePadGeometry& geometry, bool flip_horizontal,
                          int32_t num_threads, float* out);

}  // namespace person_segmentation::cpu
