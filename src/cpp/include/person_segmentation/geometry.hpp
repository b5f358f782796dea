// Resize-and-pad geometry of the original TF.js person-segmentation (REFERENCE.md section 3).
#pragma once

#include <cstdint>
#include <string>

#include "person_segmentation/constants.hpp"

namespace person_segmentation {

/// The largest image or model side a geometry takes: kMaxImageSide (constants.hpp), under
/// the name it had before.
inline constexpr int32_t kMaxGeometrySide = kMaxImageSide;

/// How an image of `image_height x image_width` is resized (keeping its aspect ratio) to
/// `resized_height x resized_width` and zero-padded to `model_height x model_width`.
/// The padded model input holds the resized image at rows
/// [pad_top, pad_top + resized_height) and columns [pad_left, pad_left + resized_width).
struct ResizePadGeometry {
  int32_t image_height = 0;
  int32_t image_width = 0;
  int32_t model_height = kModelHeight;
  int32_t model_width = kModelWidth;
  int32_t resized_height = 0;
  int32_t resized_width = 0;
  int32_t pad_top = 0;
  int32_t pad_bottom = 0;
  int32_t pad_left = 0;
  int32_t pad_right = 0;

  friend bool operator==(const ResizePadGeometry& a, const ResizePadGeometry& b) {
    return a.image_height == b.image_height && a.image_width == b.image_width && a.model_height == b.model_height &&
           a.model_width == b.model_width && a.resized_height == b.resized_height &&
           a.resized_width == b.resized_width && a.pad_top == b.pad_top && a.pad_bottom == b.pad_bottom &&
           a.pad_left == b.pad_left && a.pad_right == b.pad_right;
  }
  friend bool operator!=(const ResizePadGeometry& a, const ResizePadGeometry& b) { return !(a == b); }
};

/// The original's resize-and-pad rule (with the BodyPix 1.0 portrait fix), in the same
/// double-precision arithmetic as JavaScript so that rounding matches bit for bit.
/// Throws std::invalid_argument when a size is < 1 or > kMaxImageSide.
ResizePadGeometry compute_geometry(int32_t image_height, int32_t image_width, int32_t model_height = kModelHeight,
                                   int32_t model_width = kModelWidth);

/// Throws std::invalid_argument, naming the offending field, unless the geometry is
/// self-consistent (sizes in [1, kMaxImageSide], pads >= 0 that add up to the model size).
void validate_geometry(const ResizePadGeometry& geometry);

/// Human-readable form, e.g. for error messages and Python's repr().
std::string to_string(const ResizePadGeometry& geometry);

}  // namespace person_segmentation
