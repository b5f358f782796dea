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

#include "person_segmentation/bodypix.hpp"
#include "pixel/host_device.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::bodypix_pixel {

/// A quiet NaN (what an out-of-range JS array read, `undefined`, turns arithmetic into).
PS_HOST_DEVICE inline double nan_value() { return pixel::double_of(0x7ff8000000000000ULL); }

PS_HOST_DEVICE inline bool is_nan(double v) { return v != v; }

/// JavaScript's Math.round: the nearest integer, halves towards +infinity (exact, unlike
/// floor(v + 0.5) for 0.49999999999999994); NaN, infinities and |v| >= 2^52 (already integers)
/// unchanged. Only the sign of a zero result may differ from JS (-0 for v in [-0.5, 0]), which
/// no caller can observe (the result is an index). Floor by truncation: no libm call.
PS_HOST_DEVICE inline double js_round(double v) {
  if (!(fabs(v) < 4503599627370496.0)) return v;  // NaN, infinity or an integer already
  // Branch-free (the comparisons are data-dependent: branches would mispredict).
  int64_t i = static_cast<int64_t>(v);                    // truncation
  i -= static_cast<int64_t>(static_cast<double>(i) > v);  // floor(v)
  const double f = static_cast<double>(i);
  return f + static_cast<double>(v - f >= 0.5);  // v - f is exact
}

/// JavaScript's Math.min of two numbers: NaN if either is NaN (branch-free selects).
PS_HOST_DEVICE inline double js_min(double a, double b) { return (b < a || b != b) ? b : a; }

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

/// One lerp of tfjs' ResizeBilinear, float64: a + (b - a) * f.
PS_HOST_DEVICE inline double lerp(double a, double b, double f) { return a + (b - a) * f; }

/// tfjs' bilinear blend, float64: top = lerp(tl, tr, fc), bottom likewise, then
/// lerp(top, bottom, fr). (The CPU scale-back computes the horizontal lerps once per row and
/// the vertical one per pixel: the same operations.)
PS_HOST_DEVICE inline double blend(double tl, double tr, double bl, double br, double fc, double fr) {
  return lerp(lerp(tl, tr, fc), lerp(bl, br, fc), fr);
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

/// The elements and strides of a (validated) view.
inline Tensor3 tensor_of(const FloatTensorView& v) {
  return Tensor3{v.data, v.stride_height, v.stride_width, v.stride_channels};
}

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
  double inverse_stride;  // 1 / outputStride: a power of two, so x * it == x / outputStride exactly
  double flat_width;      // round((inW - 1) / stride + 1)
  double cells;           // outH * outW of the long offsets
  int32_t grid_width;
  double max_y;  // H - 1
  double max_x;  // W - 1
  int32_t refine_steps;
};

/// The flat cell index n = round(((padT + y + 1) * scaleY - 1) / stride) * flat_width +
/// round(((padL + x + 1) * scaleX - 1) / stride) that image position (y, x) reads its long
/// offsets at, without clamping; -1 where the reference's read is `undefined` (n outside
/// [0, cells), or NaN).
PS_HOST_DEVICE inline int64_t flat_cell(const InstanceParams& p, double y, double x) {
  const double cy = js_round(((p.pad_top + y + 1.0) * p.scale_y - 1.0) * p.inverse_stride);
  const double cx = js_round(((p.pad_left + x + 1.0) * p.scale_x - 1.0) * p.inverse_stride);
  const double n = cy * p.flat_width + cx;
  return (n >= 0.0 && n < p.cells) ? static_cast<int64_t>(n) : int64_t{-1};
}

/// Long offsets read straight from the heads (the CUDA kernels; the CPU loops use a compact
/// table of the same values): (dy, dx) of keypoint k at flat cell n >= 0.
struct HeadsLongOffsets {
  Tensor3 heads;
  int32_t channel;  // the first long-offset channel
  int32_t grid_width;
  PS_HOST_DEVICE void operator()(int64_t n, int32_t k, double* dy, double* dx) const {
    const int64_t gy = n / grid_width;
    const int64_t gx = n - gy * grid_width;
    *dy = static_cast<double>(heads.at(gy, gx, channel + k));
    *dx = static_cast<double>(heads.at(gy, gx, channel + bodypix::kNumKeypoints + k));
  }
};

/// The embeddings (y, x) of the P pixels (i[q], j[q]) for keypoints 0..K-1 (at ey/ex[q * K + k]): one long-offset step
/// from the pixel, then `refine_steps` times: cap at (H - 1, W - 1) (no lower clamp: a negative cx is a flat index into
/// the previous row), step again. A read outside the offsets is `undefined` in the reference: both coordinates become
/// NaN, and NaN stays NaN (Math.min(NaN, v) = NaN, a NaN position reads `undefined` again). The P * K chains run in
/// lockstep (independent, so they overlap in the CPU's pipeline). `offsets(n, k, &dy, &dx)` reads flat cell n >= 0.
template <int P, int K, typename Offsets>
PS_HOST_DEVICE inline void embeddings(const Offsets& offsets, const InstanceParams& p, const int32_t* i,
                                      const int32_t* j, double* ey, double* ex) {
  constexpr int N = P * K;  // chain c: pixel c / K, keypoint c % K
  const double nan = nan_value();
  double y[N], x[N];
  int64_t n[N];
  for (int q = 0; q < P; ++q) {
    const int64_t start = flat_cell(p, static_cast<double>(i[q]), static_cast<double>(j[q]));
    for (int k = 0; k < K; ++k) {
      y[q * K + k] = static_cast<double>(i[q]);
      x[q * K + k] = static_cast<double>(j[q]);
      n[q * K + k] = start;
    }
  }
  for (int32_t t = 0;; ++t) {
    for (int c = 0; c < N; ++c) {
      if (n[c] < 0) {
        y[c] = nan;
        x[c] = nan;
      } else {
        double dy, dx;
        offsets(n[c], c % K, &dy, &dx);
        y[c] = y[c] + dy;
        x[c] = x[c] + dx;
      }
    }
    if (t == p.refine_steps) break;
    for (int c = 0; c < N; ++c) {
      y[c] = js_min(y[c], p.max_y);
      x[c] = js_min(x[c], p.max_x);
      n[c] = flat_cell(p, y[c], x[c]);  // NaN y or x: -1
    }
  }
  for (int c = 0; c < N; ++c) {
    ey[c] = y[c];
    ex[c] = x[c];
  }
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
    const double* kp = people + p * bodypix::kNumKeypoints * 3;
    double distance = 0.0;
    int32_t used = 0;
    for (int32_t k = 0; k < num_keypoints; ++k) {
      if (kp[k * 3 + 2] > bodypix::kInstanceKeypointScore) {
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
