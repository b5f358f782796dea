// The BodyPix CUDA interface (bodypix_cuda.hpp) of a build without CUDA: never reached (the
// dispatcher checks cuda::compiled() first), and throws if it is.
#include <stdexcept>
#include <string>

#include "cuda/bodypix_cuda.hpp"

namespace person_segmentation::bodypix::cuda {
namespace {

[[noreturn]] void not_compiled(const char* what) {
  throw std::runtime_error(std::string("CUDA ") + what + " was called but this build has no CUDA support");
}

}  // namespace

void scale_back(const FloatTensorView&, const ScaleBackPlan&, float, int32_t, void*, bool, uint8_t*, int32_t*, float*) {
  not_compiled("bodypix scale_back");
}

void decode_instances(const FloatTensorView&, const MaskView&, const double*, int64_t,
                      const bodypix_pixel::InstanceParams&, int32_t, int32_t, int32_t, void*, bool, int32_t*) {
  not_compiled("bodypix decode_instances");
}

void download(const FloatTensorView&, int32_t, void*, bool, float*) { not_compiled("bodypix download"); }

}  // namespace person_segmentation::bodypix::cuda
