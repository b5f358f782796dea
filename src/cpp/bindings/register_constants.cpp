// The public limits of constants.hpp as module attributes.
#include "bindings.hpp"
#include "person_segmentation/constants.hpp"

namespace person_segmentation::bindings {

void register_constants(pybind11::module_& m) {
  m.attr("MODEL_HEIGHT") = kModelHeight;           // rows of the model input
  m.attr("MODEL_WIDTH") = kModelWidth;             // columns of the model input
  m.attr("MAX_IMAGE_SIDE") = kMaxImageSide;        // the largest image (and logit grid) side
  m.attr("NUM_PARTS") = kNumParts;                 // the body parts of the model
  m.attr("MAX_PART_CHANNELS") = kMaxPartChannels;  // the most part channels the kernels take
}

}  // namespace person_segmentation::bindings
