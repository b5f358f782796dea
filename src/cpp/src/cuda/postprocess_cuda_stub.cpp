// The CUDA interface (postprocess_cuda.hpp) of a build without CUDA (PERSON_SEGMENTATION_CUDA
// OFF, or AUTO without a CUDA compiler): CMake compiles this file instead of
// postprocess_cuda.cu. No kernels and no devices; the dispatcher checks compiled() before it
// would launch anything, so the entry points are never reached, and throw if they are.
#include <stdexcept>
#include <string>

#include "cuda/postprocess_cuda.hpp"

namespace person_segmentation::cuda {
namespace {

[[noreturn]] void not_compiled(const char* what) {
  throw std::runtime_error(std::string("CUDA ") + what +
                           " was called but this build has no CUDA support (see build_info())");
}

}  // namespace

bool compiled() { return false; }

int32_t device_count() { return 0; }

CudaRuntimeInfo runtime_info() {
  CudaRuntimeInfo info;
  info.unavailable_reason = "this build has no CUDA kernels (built without a CUDA compiler or with CUDA OFF)";
  return info;
}

int32_t device_of_pointer(const void*, const char*) { not_compiled("device_of_pointer"); }

const char* device_unusable_reason(int32_t) { return "this build has no CUDA kernels"; }

int32_t current_device() { not_compiled("current_device"); }

void* allocate(size_t, int32_t) { not_compiled("allocate"); }

void release(void*, int32_t) noexcept {}

void person_mask(const FloatTensorView&, const ResizePadGeometry&, const PostprocessOptions&, int32_t, uint8_t*) {
  not_compiled("person_mask");
}

void part_segmentation(const FloatTensorView&, const FloatTensorView&, const ResizePadGeometry&,
                       const PostprocessOptions&, int32_t, int32_t*) {
  not_compiled("part_segmentation");
}

void person_probability(const FloatTensorView&, const ResizePadGeometry&, const PostprocessOptions&, int32_t, float*) {
  not_compiled("person_probability");
}

}  // namespace person_segmentation::cuda
