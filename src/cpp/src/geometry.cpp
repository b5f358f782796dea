#include "person_segmentation/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "person_segmentation/constants.hpp"

namespace person_segmentation {

ResizePadGeometry compute_geometry(int32_t image_height, int32_t image_width, int32_t model_height,
                                   int32_t model_width) {
  if (image_height < 1 || image_width < 1) {
    std::ostringstream msg;
    msg << "image must be at least 1x1 pixels, got height=" << image_height << " width=" << image_width;
    throw std::invalid_argument(msg.str());
  }
  if (image_height > kMaxImageSide || image_width > kMaxImageSide) {
    std::ostringstream msg;
    msg << "image must be at most " << kMaxImageSide << "x" << kMaxImageSide << " pixels, got height=" << image_height
        << " width=" << image_width;
    throw std::invalid_argument(msg.str());
  }
  if (model_height < 1 || model_width < 1 || model_height > kMaxImageSide || model_width > kMaxImageSide) {
    std::ostringstream msg;
    msg << "model input must be at least 1x1 and at most " << kMaxImageSide << "x" << kMaxImageSide
        << " pixels, got height=" << model_height << " width=" << model_width;
    throw std::invalid_argument(msg.str());
  }
  ResizePadGeometry g;
  g.image_height = image_height;
  g.image_width = image_width;
  g.model_height = model_height;
  g.model_width = model_width;
  // Same double arithmetic as the JavaScript original (resizeAndPadTo).
  const double aspect = static_cast<double>(image_width) / static_cast<double>(image_height);
  const double target_aspect = static_cast<double>(model_width) / static_cast<double>(model_height);
  if (aspect > target_aspect) {
    g.resized_width = model_width;
    const double rh = std::ceil(static_cast<double>(model_width) / aspect);
    g.resized_height = static_cast<int32_t>(std::clamp(rh, 1.0, static_cast<double>(model_height)));
    g.pad_top = (model_height - g.resized_height) / 2;
    g.pad_bottom = model_height - g.resized_height - g.pad_top;
  } else {
    g.resized_height = model_height;
    const double rw = std::ceil(static_cast<double>(model_height) * aspect);
    g.resized_width = static_cast<int32_t>(std::clamp(rw, 1.0, static_cast<double>(model_width)));
    g.pad_left = (model_width - g.resized_width) / 2;
    g.pad_right = model_width - g.resized_width - g.pad_left;
  }
  return g;
}

void validate_geometry(const ResizePadGeometry& g) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("invalid geometry (" + what + "): " + to_string(g));
  };
  // Every field in range first, so that the sums below are of bounded values.
  const struct {
    const char* name;
    int32_t value;
    int32_t min;
  } fields[] = {
      {"image_height", g.image_height, 1},
      {"image_width", g.image_width, 1},
      {"model_height", g.model_height, 1},
      {"model_width", g.model_width, 1},
      {"resized_height", g.resized_height, 1},
      {"resized_width", g.resized_width, 1},
      {"pad_top", g.pad_top, 0},
      {"pad_bottom", g.pad_bottom, 0},
      {"pad_left", g.pad_left, 0},
      {"pad_right", g.pad_right, 0},
  };
  for (const auto& f : fields) {
    if (f.value < f.min || f.value > kMaxImageSide)
      fail(std::string(f.name) + " must be in [" + std::to_string(f.min) + ", " + std::to_string(kMaxImageSide) +
           "], got " + std::to_string(f.value));
  }
  if (static_cast<int64_t>(g.pad_top) + g.resized_height + g.pad_bottom != g.model_height)
    fail("pad_top + resized_height + pad_bottom must equal model_height");
  if (static_cast<int64_t>(g.pad_left) + g.resized_width + g.pad_right != g.model_width)
    fail("pad_left + resized_width + pad_right must equal model_width");
}

std::string to_string(const ResizePadGeometry& g) {
  std::ostringstream s;
  s << "ResizePadGeometry(image=" << g.image_height << "x" << g.image_width << ", model=" << g.model_height << "x"
    << g.model_width << ", resized=" << g.resized_height << "x" << g.resized_width << ", pad_top=" << g.pad_top
    << ", pad_bottom=" << g.pad_bottom << ", pad_left=" << g.pad_left << ", pad_right=" << g.pad_right << ")";
  return s.str();
}

}  // namespace person_segmentation
