// Validation and dispatch of the pre-processing (the CPU kernel is the only one: on a GPU the
// TensorFlow engine resizes on the device).
#include "person_segmentation/preprocess.hpp"

#include <sstream>
#include <stdexcept>
#include <string>

#include "cpu/preprocess_cpu.hpp"
#include "view_check.hpp"

namespace person_segmentation {
namespace {

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

// Output rows per thread below which another thread costs more than it saves.
constexpr int64_t kRowsPerThread = 64;

}  // namespace

void resize_pad_normalize(const ImageView& image, const ResizePadGeometry& geometry, const PreprocessOptions& options,
                          float* out) {
  if (image.type != PixelType::kUint8 && image.type != PixelType::kFloat32)
    fail("image.type must be PixelType::kUint8 (0) or PixelType::kFloat32 (1), got " +
         std::to_string(static_cast<int32_t>(image.type)));
  if (image.data == nullptr) fail("image has no data (null pointer)");
  validate_geometry(geometry);
  if (image.height != geometry.image_height || image.width != geometry.image_width || image.channels != 3) {
    std::ostringstream s;
    s << "image must have shape (" << geometry.image_height << ", " << geometry.image_width
      << ", 3) to match the geometry, got (" << image.height << ", " << image.width << ", " << image.channels << ")";
    fail(s.str());
  }
  const int64_t sizes[3] = {image.height, image.width, image.channels};
  const int64_t strides[3] = {image.stride_height, image.stride_width, image.stride_channels};
  detail::check_addressable("image", sizes, strides, image.type == PixelType::kUint8 ? 1 : 4, image.extent,
                            image.data_offset);
  detail::check_num_threads(options.num_threads);
  if (out == nullptr) fail("output buffer is a null pointer");

  cpu::resize_pad_normalize(image, geometry, options.flip_horizontal,
                            detail::thread_count(options.num_threads, geometry.model_height, kRowsPerThread), out);
}

}  // namespace person_segmentation
