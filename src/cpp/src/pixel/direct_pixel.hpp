// The post-processing of ONE output pixel computed directly from the grid of sigmoid scores
// (host + device inline): the four stage-1 values around its stage-2 source point, each a
// bilinear blend of four grid scores, then the stage-2 blend, the threshold and, where it is a
// person, the part argmax. The CUDA kernels run this per thread; the C++ tests run it on the
// host against the CPU kernels, so the CUDA path's arithmetic is checked without a GPU.
#pragma once

#include <cstdint>

#include "person_segmentation/geometry.hpp"
#include "pixel/host_device.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::direct {

/// The most part channels this path takes: a pixel keeps its part scores in a fixed-size
/// array (registers on the GPU). Not the public limit of the CPU kernels (kMaxPartChannels).
inline constexpr int32_t kMaxDirectParts = 32;

/// The interpolation geometry, computed on the host with the same functions as on the CPU.
struct Sampling {
  int32_t grid_height, grid_width, channels;  // channels = parts + 1; scores hold [parts..., segment]
  int32_t image_height, image_width;
  int32_t resized_height, resized_width, pad_top, pad_left;
  float scale1_y, scale1_x, scale2_y, scale2_x;
};

inline Sampling make_sampling(int32_t grid_height, int32_t grid_width, int32_t num_parts, const ResizePadGeometry& g) {
  Sampling s;
  s.grid_height = grid_height;
  s.grid_width = grid_width;
  s.channels = num_parts + 1;
  s.image_height = g.image_height;
  s.image_width = g.image_width;
  s.resized_height = g.resized_height;
  s.resized_width = g.resized_width;
  s.pad_top = g.pad_top;
  s.pad_left = g.pad_left;
  s.scale1_y = pixel::resize_scale(grid_height, g.model_height, true);
  s.scale1_x = pixel::resize_scale(grid_width, g.model_width, true);
  s.scale2_y = pixel::resize_scale(g.resized_height, g.image_height, true);
  s.scale2_x = pixel::resize_scale(g.resized_width, g.image_width, true);
  return s;
}

/// Stage-1 value of channel `k` at crop row `i`, crop column `j`.
PS_HOST_DEVICE inline float stage1(const float* scores, const Sampling& s, int32_t i, int32_t j, int32_t k) {
  const pixel::SourceCoord r = pixel::source_coord(i + s.pad_top, s.scale1_y, s.grid_height);
  const pixel::SourceCoord c = pixel::source_coord(j + s.pad_left, s.scale1_x, s.grid_width);
  const int64_t row = static_cast<int64_t>(s.grid_width) * s.channels;
  const float* top = scores + r.lower * row + k;
  const float* bottom = scores + r.upper * row + k;
  return pixel::lerp2d(top[c.lower * s.channels], top[c.upper * s.channels], bottom[c.lower * s.channels],
                       bottom[c.upper * s.channels], c.lerp, r.lerp);
}

/// Full-resolution score of channel `k` at the output pixel whose stage-2 sources are `r`, `c`.
PS_HOST_DEVICE inline float score_at(const float* scores, const Sampling& s, pixel::SourceCoord r, pixel::SourceCoord c,
                                     int32_t k) {
  return pixel::lerp2d(stage1(scores, s, r.lower, c.lower, k), stage1(scores, s, r.lower, c.upper, k),
                       stage1(scores, s, r.upper, c.lower, k), stage1(scores, s, r.upper, c.upper, k), c.lerp, r.lerp);
}

/// Mask value (0/1) of output pixel (`y`, `x`), before any flip.
PS_HOST_DEVICE inline uint8_t mask_at(const float* scores, const Sampling& s, int32_t y, int32_t x, float threshold) {
  const pixel::SourceCoord r = pixel::source_coord(y, s.scale2_y, s.resized_height);
  const pixel::SourceCoord c = pixel::source_coord(x, s.scale2_x, s.resized_width);
  return pixel::is_person(score_at(scores, s, r, c, s.channels - 1), threshold) ? 1 : 0;
}

/// Person probability (see pixel::probability_of_score) of output pixel (`y`, `x`), before any flip.
PS_HOST_DEVICE inline float probability_at(const float* scores, const Sampling& s, int32_t y, int32_t x) {
  const pixel::SourceCoord r = pixel::source_coord(y, s.scale2_y, s.resized_height);
  const pixel::SourceCoord c = pixel::source_coord(x, s.scale2_x, s.resized_width);
  return pixel::probability_of_score(score_at(scores, s, r, c, s.channels - 1));
}

/// Part id (or -1) of output pixel (`y`, `x`), before any flip.
PS_HOST_DEVICE inline int32_t part_at(const float* scores, const Sampling& s, int32_t y, int32_t x, float threshold) {
  const pixel::SourceCoord r = pixel::source_coord(y, s.scale2_y, s.resized_height);
  const pixel::SourceCoord c = pixel::source_coord(x, s.scale2_x, s.resized_width);
  const int32_t num_parts = s.channels - 1;
  const bool person = pixel::is_person(score_at(scores, s, r, c, num_parts), threshold);
  int32_t part = 0;
  if (person) {
    float part_scores[kMaxDirectParts];
    for (int32_t k = 0; k < num_parts; ++k) part_scores[k] = score_at(scores, s, r, c, k);
    part = pixel::argmax_first(part_scores, num_parts);
  }
  return pixel::masked_part(part, person);
}

}  // namespace person_segmentation::direct
