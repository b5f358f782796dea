// The parts of the private pybind11 module `person_segmentation._core`: one register_*
// function per area, each in its own register_*.cpp, called in this order by module.cpp
// (classes before the functions whose signatures name them).
#pragma once

#include <pybind11/pybind11.h>

namespace person_segmentation::bindings {

/// MODEL_HEIGHT, MODEL_WIDTH, MAX_IMAGE_SIDE, NUM_PARTS, MAX_PART_CHANNELS (constants.hpp).
void register_constants(pybind11::module_& m);

/// ResizePadGeometry and compute_geometry (geometry.hpp).
void register_geometry(pybind11::module_& m);

/// resize_pad_normalize (preprocess.hpp).
void register_preprocess(pybind11::module_& m);

/// person_mask and part_segmentation of numpy logits (postprocess.hpp).
void register_postprocess(pybind11::module_& m);

/// person_mask_dlpack and part_segmentation_dlpack: the same of DLPack capsules.
void register_dlpack(pybind11::module_& m);

/// bodypix_preprocess, bodypix_scale_back, bodypix_decode_poses, bodypix_decode_instances
/// (bodypix.hpp).
void register_bodypix(pybind11::module_& m);

/// default_num_threads, cuda_compiled, cuda_device_count, build_summary (runtime.hpp).
void register_runtime(pybind11::module_& m);

}  // namespace person_segmentation::bindings
