// The CUDA side of the BodyPix 2 post-processing (bodypix_cuda.cu, or bodypix_cuda_stub.cpp
// without CUDA, whose entry points throw std::runtime_error; bodypix.cpp checks
// cuda::compiled() and the device before it calls them). Heads are a validated CUDA view;
// results go to host memory. Device management (probing, pools) is postprocess_cuda.hpp's.
#pragma once

#include <cstdint>

#include "cpu/bodypix_cpu.hpp"
#include "person_segmentation/bodypix.hpp"

namespace person_segmentation::bodypix::cuda {

/// Scale-back of section 6-8 on device `device` (the heads' device), results copied to the
/// host buffers (`parts` and `probability` may be null).
void scale_back(const FloatTensorView& heads, const ScaleBackPlan& plan, float threshold, int32_t device, void* stream,
                bool heads_ready_on_stream, uint8_t* mask, int32_t* parts, float* probability);

/// The instance decoder of section 11 on device `device`: `mask` (host, image-sized, row
/// strides as given) and `keypoints` (host, num_people * 51 doubles) are uploaded.
void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const bodypix_pixel::InstanceParams& params, int32_t image_height, int32_t image_width,
                      int32_t device, void* stream, bool heads_ready_on_stream, int32_t* out);

/// Copies the (h, w, c) device view into a compact host block of h * w * c floats.
void download(const FloatTensorView& heads, int32_t device, void* stream, bool heads_ready_on_stream, float* host);

}  // namespace person_segmentation::bodypix::cuda
