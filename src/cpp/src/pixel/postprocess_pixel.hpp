// Per-pixel math of the post-processing, written once and shared by the CPU loops and the
// CUDA kernels (every function is host + device inline), so the two paths cannot drift.
// Private to the core: not installed.
//
// The arithmetic mirrors TensorFlow's legacy ResizeBilinear (float32 source coordinates,
// horizontal lerp first, then vertical) and TF.js' sigmoid (computed in double, stored as
// float32; its exp is exp_ieee below, the same IEEE-only code on host and device), which is what the original
// person-segmentation ran.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "pixel/host_device.hpp"

namespace person_segmentation::pixel {

/// Where an output row/column samples its source: the two neighbours and the weight of the
/// upper one.
struct SourceCoord {
  int32_t lower;
  int32_t upper;
  float lerp;
};

/// TensorFlow's CalculateResizeScale: (in-1)/(out-1) with align_corners (when out > 1),
/// else in/out; computed in float32.
PS_HOST_DEVICE inline float resize_scale(int32_t in_size, int32_t out_size, bool align_corners) {
  return (align_corners && out_size > 1) ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                                         : static_cast<float>(in_size) / static_cast<float>(out_size);
}

/// TensorFlow's legacy compute_interpolation_weights for one output index.
PS_HOST_DEVICE inline SourceCoord source_coord(int32_t out_index, float scale, int32_t in_size) {
  const float in = static_cast<float>(out_index) * scale;
  const float in_floor = floorf(in);
  SourceCoord c;
  const int32_t lower = static_cast<int32_t>(in_floor);
  const int32_t upper = static_cast<int32_t>(ceilf(in));
  c.lower = lower < 0 ? 0 : (lower > in_size - 1 ? in_size - 1 : lower);
  c.upper = upper < 0 ? 0 : (upper > in_size - 1 ? in_size - 1 : upper);
  c.lerp = in - in_floor;
  return c;
}

/// Linear blend `a + (b - a) * t` (one axis of TF's bilinear resize).
PS_HOST_DEVICE inline float lerp(float a, float b, float t) { return a + (b - a) * t; }

/// Bilinear blend of four neighbours: horizontal first, then vertical (TF's compute_lerp).
/// The CPU path splits this into its horizontal and vertical `lerp`s, in the same order.
PS_HOST_DEVICE inline float lerp2d(float top_left, float top_right, float bottom_left, float bottom_right, float x_lerp,
                                   float y_lerp) {
  return lerp(lerp(top_left, top_right, x_lerp), lerp(bottom_left, bottom_right, x_lerp), y_lerp);
}

/// The bits of a double and back (exact; memcpy on the host, intrinsics on the device).
PS_HOST_DEVICE inline uint64_t bits_of(double value) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(value));
#else
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
#endif
}

PS_HOST_DEVICE inline double double_of(uint64_t bits) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(bits));
#else
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
#endif
}

/// The lowest and highest t that exp_ieee takes (sigmoid() clamps its argument to them).
inline constexpr double kExpIeeeMin = -64.0;
inline constexpr double kExpIeeeMax = 128.0;

/// e^t for t in [kExpIeeeMin, kExpIeeeMax], in IEEE double arithmetic only (+, -, * and
/// exact bit manipulation; no library call, no FMA: the core is compiled with
/// -ffp-contract=off and the kernels with --fmad=false), so host and device compute the same
/// bits by construction (valid for n + 1023 in [1, 2046], which the range ensures). Cody-Waite reduction t = n ln2 + r
/// with n = round(t / ln2) (by the 1.5 * 2^52 trick: exact round-to-nearest in IEEE addition), ln2's high part with 21
/// trailing zero bits so that n * kLn2Hi is exact, |r| <= ln2 / 2; then the Taylor polynomial
/// of degree 13 (truncation error < 2^-57) in Estrin's scheme (a short dependency chain, and
/// branch-free, so the host loop vectorises), scaled by 2^n. Within about 2 ulp (double) of
/// e^t: sweep_score compares the sigmoid built on it with glibc's over float32 logits.
PS_HOST_DEVICE inline double exp_ieee(double t) {
  constexpr double kLog2e = 0x1.71547652b82fep+0;
  constexpr double kLn2Hi = 0x1.62e42fee00000p-1;
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  constexpr double kRound = 0x1.8p52;          // x + 1.5 * 2^52 - 1.5 * 2^52 rounds |x| < 2^51 to an integer
  const double shifted = t * kLog2e + kRound;  // n in its low mantissa bits
  const double n = shifted - kRound;
  const double r = (t - n * kLn2Hi) - n * kLn2Lo;
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double r8 = r4 * r4;
  const double a0 = 1.0 + r;
  const double a1 = 0.5 + r * 0x1.5555555555555p-3;                     // 1/2!, 1/3!
  const double a2 = 0x1.5555555555555p-5 + r * 0x1.1111111111111p-7;    // 1/4!, 1/5!
  const double a3 = 0x1.6c16c16c16c17p-10 + r * 0x1.a01a01a01a01ap-13;  // 1/6!, 1/7!
  const double a4 = 0x1.a01a01a01a01ap-16 + r * 0x1.71de3a556c734p-19;  // 1/8!, 1/9!
  const double a5 = 0x1.27e4fb7789f5cp-22 + r * 0x1.ae64567f544e4p-26;  // 1/10!, 1/11!
  const double a6 = 0x1.1eed8eff8d898p-29 + r * 0x1.6124613a86d09p-33;  // 1/12!, 1/13!
  const double p = ((a0 + r2 * a1) + r4 * (a2 + r2 * a3)) + r8 * ((a4 + r2 * a5) + r4 * a6);
  // 2^n, exactly: the low bits of `shifted` are n (two's complement), n + 1023 the exponent.
  return p * double_of((bits_of(shifted) + 1023) << 52);
}

/// Logistic sigmoid as TF.js' CPU backend computes it: 1 / (1 + e^-x) in double, rounded to
/// float32; e^-x is exp_ieee (one IEEE-only implementation for host and device, see there).
/// Outside [-128, 64] the float32 result is exactly 0 (e^-x > 2^184) or 1 (e^-x < 2^-92, so
/// 1 + e^-x == 1 in double), which is what the formula gives there, NaN excepted (callers
/// map NaN first: score_of_logit).
PS_HOST_DEVICE inline float sigmoid(float logit) {
  const double t = -static_cast<double>(logit);
  const double clamped = t > kExpIeeeMax ? kExpIeeeMax : (t < kExpIeeeMin ? kExpIeeeMin : t);
  const float score = static_cast<float>(1.0 / (1.0 + exp_ieee(clamped)));
  return t > kExpIeeeMax ? 0.0f : (t < kExpIeeeMin ? 1.0f : score);
}

/// The previous sigmoid, through the C library's exp (glibc on the host, libdevice on CUDA:
/// two different functions): kept only for the accuracy sweep (sweep_score) that compares the
/// IEEE-only sigmoid with it.
inline float sigmoid_libm(float logit) {
  return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit))));
}

/// The score a logit contributes: its sigmoid, except that a NaN logit scores -1, below every
/// real score, so it is never a person and never the winning part (defined NaN behaviour).
PS_HOST_DEVICE inline float score_of_logit(float logit) { return logit != logit ? -1.0f : sigmoid(logit); }

/// The original's strict threshold: a pixel is a person when its score is above it.
PS_HOST_DEVICE inline bool is_person(float score, float threshold) { return score > threshold; }

/// The person probability reported for a full-resolution score: the score itself, except that
/// the -1 of NaN logits (and blends with it) reads as 0, so every probability is in [0, 1].
/// For every threshold >= 0, `probability_of_score(s) > threshold` iff `is_person(s, threshold)`.
PS_HOST_DEVICE inline float probability_of_score(float score) { return score > 0.0f ? score : 0.0f; }

/// `(part + 1) * mask - 1`: the part id where the mask is on, -1 elsewhere.
PS_HOST_DEVICE inline int32_t masked_part(int32_t part, bool person) { return person ? part : -1; }

/// Index of the largest of `count` (>= 1) scores; the first index wins a tie (tf.argmax).
/// Scores must not be NaN (see score_of_logit). Written as eight independent lanes, each
/// keeping its best score and index (compare + select, which compilers vectorise), then a
/// reduction of the lanes that prefers the smaller index on equal scores. `Count` is int32_t
/// or a std::integral_constant (a compile-time count: fully unrolled).
template <typename Count>
PS_HOST_DEVICE inline int32_t argmax_first(const float* scores, Count count) {
  const int32_t n = static_cast<int32_t>(count);
  float value[8];
  int32_t index[8];
  for (int32_t j = 0; j < 8; ++j) {
    index[j] = j < n ? j : 0;
    value[j] = scores[index[j]];
  }
  int32_t k = 8;
  for (; k + 8 <= n; k += 8) {
    for (int32_t j = 0; j < 8; ++j) {
      const bool greater = scores[k + j] > value[j];
      value[j] = greater ? scores[k + j] : value[j];
      index[j] = greater ? k + j : index[j];
    }
  }
  for (; k < n; ++k) {
    const bool greater = scores[k] > value[0];
    value[0] = greater ? scores[k] : value[0];
    index[0] = greater ? k : index[0];
  }
  float best = value[0];
  int32_t best_index = index[0];
  for (int32_t j = 1; j < 8; ++j) {
    const bool better = value[j] > best || (value[j] == best && index[j] < best_index);
    best = better ? value[j] : best;
    best_index = better ? index[j] : best_index;
  }
  return best_index;
}

/// Column the value computed for column `x` is written to: mirrored when flipping back.
PS_HOST_DEVICE inline int32_t output_column(int32_t x, int32_t width, bool flip_horizontal) {
  return flip_horizontal ? width - 1 - x : x;
}

}  // namespace person_segmentation::pixel
