// Per-pixel math of the pre-processing (host + device inline), next to postprocess_pixel.hpp
// whose resize helpers it reuses: the same TensorFlow legacy ResizeBilinear arithmetic.
// Private to the core: not installed.
#pragma once

#include <cmath>
#include <cstdint>

#include "pixel/host_device.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::pixel {

/// A pixel value as the resize reads it: uint8 as is.
PS_HOST_DEVICE inline float pixel_value(uint8_t v) { return static_cast<float>(v); }

/// A float pixel made finite the way the TF path does before resizing: NaN -> 0, then
/// clamped to [0, 255].
PS_HOST_DEVICE inline float pixel_value(float v) {
  if (v != v) return 0.0f;  // NaN
  return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
}

/// MobileNet's input normalisation, `x / 127.5 - 1` in float32 (TF: a division, then a
/// subtraction; no fused multiply-add).
PS_HOST_DEVICE inline float normalize_input(float x) { return x / 127.5f - 1.0f; }

/// The value of a padding element: a zero pixel, normalised.
PS_HOST_DEVICE inline float padding_input() { return normalize_input(0.0f); }

/// The source column of output column `x` for an image of `width` columns that is mirrored
/// (when `flip`) before resizing with `scale`: the legacy coordinate on the mirrored image,
/// mapped back to the original's columns.
PS_HOST_DEVICE inline SourceCoord source_column(int32_t x, float scale, int32_t width, bool flip) {
  SourceCoord c = source_coord(x, scale, width);
  if (flip) {
    c.lower = width - 1 - c.lower;
    c.upper = width - 1 - c.upper;
  }
  return c;
}

}  // namespace person_segmentation::pixel
