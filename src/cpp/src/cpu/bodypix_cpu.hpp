// CPU loops of the BodyPix 2 post-processing (bodypix_cpu.cpp), and the sampling plan of the
// scale-back that the CUDA kernels use too. Arguments are validated by bodypix.cpp first.
#pragma once

#include <cstdint>
#include <vector>

#include "person_segmentation/bodypix.hpp"
#include "pixel/bodypix_pixel.hpp"

namespace person_segmentation::bodypix {

/// Everything of the scale-back that does not depend on the logits: where every input row and
/// column samples the logit grid (align corners), and where every image row and column samples
/// the input-resolution scores (crop-and-resize with the float32 box).
struct ScaleBackPlan {
  int32_t grid_height = 0, grid_width = 0;
  int32_t input_height = 0, input_width = 0;
  int32_t image_height = 0, image_width = 0;
  std::vector<bodypix_pixel::AxisSample> input_rows, input_columns;
  std::vector<bodypix_pixel::CropSample> crop_rows, crop_columns;
};

ScaleBackPlan make_scale_back_plan(int32_t grid_height, int32_t grid_width, const Geometry& g);

namespace cpu {

void preprocess(const ImageView& image, const Geometry& g, int32_t num_threads, float* out);

void scale_back(const FloatTensorView& heads, const Geometry& g, float threshold, int32_t num_threads, uint8_t* mask,
                int32_t* parts, float* probability);

Poses decode_poses(const FloatTensorView& heads, const Geometry& g, const PoseOptions& options);

bodypix_pixel::InstanceParams instance_params(const FloatTensorView& heads, const Geometry& g, int32_t output_stride,
                                              int32_t refine_steps);

void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const Geometry& g, int32_t output_stride, int32_t refine_steps, int32_t num_threads,
                      int32_t* out);

}  // namespace cpu
}  // namespace person_segmentation::bodypix
