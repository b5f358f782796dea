// Per-pixel math of the BodyPix 2 post-processing (spec/BODYPIX2.md sections 5, 6, 8, 11),
// host + device inline, shared by the CPU loops (cpu/bodypix_cpu.cpp) and the CUDA kernels
// (cuda/bodypix_cuda.cu). Private to the core: not installed.
//
// Arithmetic as the reference (tfjs 4.22 cpu backend, JS numbers): sample coordinates and
// lerps in float64 from float32 (or integer) inputs, results rounded to float32 where the
// reference stores a tensor; the sigmoid is pixel::sigmoid (double, rounded to float32). The
// core is compiled without FMA contraction (-ffp-contract=off, nvcc --fmad=false).
#pragma once

#include <cmath>
#include <cstdint>

#include "pixel/host_device.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::bodypix_pixel {

/// A quiet NaN (what an out-of-range JS array read, `undefined`, turns arithmetic into).
PS_HOST_DEVICE inline double nan_value() { return pixel::double_of(0x7ff8000000000000ULL); }

PS_HOST_DEVICE inline bool is_nan(double v) { return v != v; }

/// JavaScript's Math.round: the nearest integer, halves towards +infinity (exact, unlike
/// floor(v + 0.5) for 0.49999999999999994); NaN and infinities unchanged.
PS_HOST_DEVICE inline double js_round(double v) {
  if (!(v - v == 0.0)) return v;  // NaN or infinity
  const double f = floor(v);
  return (v - f >= 0.5) ? f + 1.0 : f;  // v - f is exact
}

/// JavaScript's Math.min of two numbers: NaN if either is NaN.
PS_HOST_DEVICE inline double js_min(double a, double b) {
  if (is_nan(a) || is_nan(b)) return nan_value();
  return b < a ? b : a;
}

/// One axis of tfjs' ResizeBilinear (halfPixelCenters false): the two source indices and the
/// fraction of the upper one.
struct AxisSample {
  int32_t lower;
  int32_t upper;
  double frac;
};

/// tfjs' effective size ratio: (in - 1) / (out - 1) with align corners when out > 1, else
/// in / out; float64.
PS_HOST_DEVICE inline double resize_ratio(int32_t in_size, int32_t out_size, bool align_corners) {
  return (align_corners && out_size > 1) ? static_cast<double>(in_size - 1) / static_cast<double>(out_size - 1)
                                         : static_cast<double>(in_size) / static_cast<double>(out_size);
}

/// Output index `index` of tfjs' ResizeBilinear: sr = ratio * index, lower = max(0, floor(sr))
/// (also capped at in_size - 1, which only guards memory: floor(sr) never exceeds it for
/// these ratios), upper = min(in_size - 1, ceil(sr)), frac = sr - lower.
PS_HOST_DEVICE inline AxisSample resize_sample(int32_t index, double ratio, int32_t in_size) {
  const double sr = ratio * static_cast<double>(index);
  double lo = floor(sr);
  lo = lo < 0.0 ? 0.0 : lo;
  double hi = ceil(sr);
  hi = hi > static_cast<double>(in_size - 1) ? static_cast<double>(in_size - 1) : hi;
  AxisSample s;
  s.frac = sr - lo;
  s.lower = static_cast<int32_t>(lo > static_cast<double>(in_size - 1) ? static_cast<double>(in_size - 1) : lo);
  s.upper = static_cast<int32_t>(hi < 0.0 ? 0.0 : hi);
  return s;
}

/// tfjs' bilinear blend, float64: top = tl + (tr - tl) * fc, bottom likewise, then
/// top + (bottom - top) * fr.
PS_HOST_DEVICE inline double blend(double tl, double tr, double bl, double br, double fc, double fr) {
  const double top = tl + (tr - tl) * fc;
  const double bottom = bl + (br - bl) * fc;
  return top + (bottom - top) * fr;
}

/// The crop box of spec section 6 along one axis, as float32 (the box is a float32 tensor):
/// the low edge pad / (size + pad + pad_other - 1) and the high edge
/// (pad + size - 1) / (size + pad + pad_other - 1), in float64 first. A padded size of 1 gives
/// 0 / 0 = NaN (as in JS).
PS_HOST_DEVICE inline float box_low(int32_t pad, int32_t size, int32_t pad_other) {
  const double d = static_cast<double>(size) + pad + pad_other - 1.0;
  if (d == 0.0) return static_cast<float>(nan_value());
  return static_cast<float>(static_cast<double>(pad) / d);
}
PS_HOST_DEVICE inline float box_high(int32_t pad, int32_t size, int32_t pad_other) {
  const double d = static_cast<double>(size) + pad + pad_other - 1.0;
  if (d == 0.0) return static_cast<float>(nan_value());
  return static_cast<float>((static_cast<double>(pad) + size - 1.0) / d);
}

/// What one output row (or column) of tfjs' CropAndResize reads.
enum CropKind : int32_t { kCropSample = 0, kCropZero = 1, kCropNan = 2 };

struct CropSample {
  int32_t kind;  // kCropSample: lerp between lower and upper; kCropZero: the extrapolation
                 // value 0 (outside [0, image_size - 1]); kCropNan: a NaN coordinate (reads
                 // `undefined` in the reference, NaN)
  int32_t lower;
  int32_t upper;
  double frac;
};

/// Output index `index` of tfjs' CropAndResize (bilinear) along an axis of `crop_size` output
/// samples over an image axis of `image_size`, for the float32 box edges b1, b2:
/// scale = ((b2 - b1) * (image_size - 1)) / (crop_size - 1) (0 when crop_size is 1),
/// coordinate b1 * (image_size - 1) + index * scale (0.5 * (b1 + b2) * (image_size - 1) when
/// crop_size is 1), in float64. The float32 box is what makes the last row of an unpadded axis
/// fall just past image_size - 1 for some sizes (then kCropZero).
PS_HOST_DEVICE inline CropSample crop_sample(int32_t index, int32_t crop_size, float b1, float b2, int32_t image_size) {
  const double e1 = static_cast<double>(b1);
  const double e2 = static_cast<double>(b2);
  const double last = static_cast<double>(image_size - 1);
  double coord;
  if (crop_size > 1) {
    const double scale = ((e2 - e1) * last) / static_cast<double>(crop_size - 1);
    coord = e1 * last + static_cast<double>(index) * scale;
  } else {
    coord = 0.5 * (e1 + e2) * last;
  }
  CropSample s;
  s.lower = 0;
  s.upper = 0;
  s.frac = 0.0;
  if (is_nan(coord)) {
    s.kind = kCropNan;
    return s;
  }
  if (coord < 0.0 || coord > last) {
    s.kind = kCropZero;
    return s;
  }
  s.kind = kCropSample;
  const double lo = floor(coord);
  s.lower = static_cast<int32_t>(lo);
  s.upper = static_cast<int32_t>(ceil(coord));
  s.frac = coord - lo;
  return s;
}

/// A strided float32 (height, width, channels) tensor, host or device memory.
struct Tensor3 {
  const float* data;
  int64_t stride_height;
  int64_t stride_width;
  int64_t stride_channels;
  PS_HOST_DEVICE float at(int64_t y, int64_t x, int64_t c) const {
    return data[y * stride_height + x * stride_width + c * stride_channels];
  }
};

/// The input-resolution score of spec section 6 at input cell (row, column) of channel `c`:
/// the align-corners resize of the logits rounded to float32, then the float32 sigmoid.
PS_HOST_DEVICE inline float input_score(const Tensor3& logits, int32_t c, const AxisSample& row,
                                        const AxisSample& column) {
  const double r =
      blend(logits.at(row.lower, column.lower, c), logits.at(row.lower, column.upper, c),
            logits.at(row.upper, column.lower, c), logits.at(row.upper, column.upper, c), column.frac, row.frac);
  const float logit = static_cast<float>(r);
  if (logit != logit) return logit;  // sigmoid(NaN) = NaN
  return pixel::sigmoid(logit);
}

/// The crop-and-resize value from four input-resolution scores, float32; a zero row or
/// column gives 0, else a NaN one NaN.
PS_HOST_DEVICE inline float crop_value(float tl, float tr, float bl, float br, const CropSample& row,
                                       const CropSample& column) {
  // The reference fills a row outside the image with 0 before it looks at the columns, then a
  // column outside it with 0; only then does a NaN coordinate read `undefined` (NaN).
  if (row.kind == kCropZero || column.kind == kCropZero) return 0.0f;
  if (row.kind == kCropNan || column.kind == kCropNan) return static_cast<float>(nan_value());
  return static_cast<float>(blend(tl, tr, bl, br, column.frac, row.frac));
}

/// tfjs' argMax over `count` float32 values: starts at index 0 and moves only on a strictly
/// greater value (the first index wins ties; a NaN never wins, a NaN at index 0 keeps 0).
PS_HOST_DEVICE inline int32_t argmax_tfjs(const float* values, int32_t count) {
  float best = values[0];
  int32_t index = 0;
  for (int32_t j = 1; j < count; ++j) {
    if (values[j] > best) {
      best = values[j];
      index = j;
    }
  }
  return index;
}

/// The mask rule: score > f32(threshold), strict (NaN is never a person).
PS_HOST_DEVICE inline bool is_person(float score, float threshold) { return score > threshold; }

// ---- the CPU instance decoder (section 11) --------------------------------------------------

struct InstanceParams {
  double scale_x;  // inW / (padL + padR + W)
  double scale_y;  // inH / (padT + padB + H)
  double pad_top;
  double pad_left;
  double stride;
  double flat_width;  // round((inW - 1) / stride + 1)
  double cells;       // outH * outW of the long offsets
  int32_t grid_width;
  double max_y;  // H - 1
  double max_x;  // W - 1
  int32_t refine_steps;
};

/// The long offsets (dy, dx) of keypoint k at the cell that image position (y, x) maps to:
/// n = round(((padT + y + 1) * scaleY - 1) / stride) * flat_width + round(... x ...), a flat
/// index without clamping; outside [0, cells) (or NaN) the reference reads `undefined`: NaN.
PS_HOST_DEVICE inline void long_offset(const Tensor3& heads, int32_t long_channel, const InstanceParams& p, double y,
                                       double x, int32_t k, double* dy, double* dx) {
  const double cy = js_round(((p.pad_top + y + 1.0) * p.scale_y - 1.0) / p.stride);
  const double cx = js_round(((p.pad_left + x + 1.0) * p.scale_x - 1.0) / p.stride);
  const double n = cy * p.flat_width + cx;
  if (!(n >= 0.0 && n < p.cells)) {
    *dy = nan_value();
    *dx = nan_value();
    return;
  }
  const int64_t cell = static_cast<int64_t>(n);
  const int64_t gy = cell / p.grid_width;
  const int64_t gx = cell % p.grid_width;
  *dy = static_cast<double>(heads.at(gy, gx, long_channel + k));
  *dx = static_cast<double>(heads.at(gy, gx, long_channel + 17 + k));
}

/// The embedding (y, x) of pixel (i, j) for keypoint k: one long-offset step from the pixel,
/// then `refine_steps` times: cap at (H - 1, W - 1) (no lower clamp), step again.
PS_HOST_DEVICE inline void embedding(const Tensor3& heads, int32_t long_channel, const InstanceParams& p, int32_t i,
                                     int32_t j, int32_t k, double* out_y, double* out_x) {
  double dy, dx;
  const double py = static_cast<double>(i);
  const double px = static_cast<double>(j);
  long_offset(heads, long_channel, p, py, px, k, &dy, &dx);
  double y = py + dy;
  double x = px + dx;
  for (int32_t t = 0; t < p.refine_steps; ++t) {
    y = js_min(y, p.max_y);
    x = js_min(x, p.max_x);
    long_offset(heads, long_channel, p, y, x, k, &dy, &dx);
    y = y + dy;
    x = x + dx;
  }
  *out_y = y;
  *out_x = x;
}

/// The person of one pixel from its `num_keypoints` embeddings (ey, ex): for each person p (its
/// keypoints at people[p * 51 + k * 3 + {0: y, 1: x, 2: score}]), the mean over its keypoints
/// k < num_keypoints with score > 0.3 of (ex - X)^2 + (ey - Y)^2 (+inf with none); the first
/// strictly smallest wins; -1 when none is below +inf (NaN never wins).
PS_HOST_DEVICE inline int32_t nearest_person(const double* ey, const double* ex, int32_t num_keypoints,
                                             const double* people, int64_t num_people) {
  int32_t best = -1;
  double best_distance = pixel::double_of(0x7ff0000000000000ULL);  // +inf
  for (int64_t p = 0; p < num_people; ++p) {
    const double* kp = people + p * 51;
    double distance = 0.0;
    int32_t used = 0;
    for (int32_t k = 0; k < num_keypoints; ++k) {
      if (kp[k * 3 + 2] > 0.3) {
        used += 1;
        const double dx = ex[k] - kp[k * 3 + 1];
        const double dy = ey[k] - kp[k * 3 + 0];
        distance += dx * dx + dy * dy;
      }
    }
    distance = used == 0 ? pixel::double_of(0x7ff0000000000000ULL) : distance / static_cast<double>(used);
    if (distance < best_distance) {
      best = static_cast<int32_t>(p);
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace person_segmentation::bodypix_pixel
