// CPU loops of the BodyPix 2 post-processing (spec/BODYPIX2.md sections 5-11), on the
// per-pixel math of pixel/bodypix_pixel.hpp.
//
// Scale-back, fused: an image pixel's score is a crop-and-resize lerp of four
// input-resolution scores, each the sigmoid of an align-corners lerp of the logits. Image rows
// map monotonically onto input rows, so each thread keeps the last two input rows (their segment
// scores lerped horizontally to every image column; the 24 part logits and scores only for the
// columns that person pixels sample) and reuses them for every image row between them: each
// input-resolution score is computed about once per thread, and nothing at image resolution is
// stored but the results. A person pixel whose four cells one part wins by a margin takes that
// part without the 24 lerps (dominant_part, with its proof); the others are computed in full.
//
// SIMD: where the CPU has AVX-512F or AVX2 (runtime dispatch, simd_isa()), the parts lerp +
// argmax, the parts' dominance test and the instance decoder run the kernels of
// cpu/bodypix_simd_*.cpp, and the row and cell loops (RowKernels) copies compiled for that
// instruction set; all are bit-identical to the scalar loops here (see
// cpu/bodypix_simd_kernels.hpp for why).
//
// Why one module: the four stages are the CPU side of one interface (bodypix_cpu.hpp) and share
// its plan and helpers; each is a short section below.
#include "cpu/bodypix_cpu.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/bodypix_simd.hpp"
#include "cpu/parallel.hpp"
#include "pixel/preprocess_pixel.hpp"

#if PS_HAVE_BODYPIX_SIMD
#include "cpu/immintrin_quiet.hpp"  // the pre-processing's AVX-512F column lerp (target("avx512f"))
#endif

// PS_HAVE_BODYPIX_SIMD (set by CMake on x86-64 with GCC/Clang): the AVX-512F / AVX2 kernels of
// cpu/bodypix_simd_*.cpp are linked in, and functions here may carry target attributes.
#if PS_HAVE_BODYPIX_SIMD
#define PS_BODYPIX_ALWAYS_INLINE __attribute__((always_inline))
#else
#define PS_BODYPIX_ALWAYS_INLINE
#endif

namespace person_segmentation::bodypix {

using bodypix_pixel::AxisSample;
using bodypix_pixel::CropSample;
using bodypix_pixel::Tensor3;
using bodypix_pixel::tensor_of;

ScaleBackPlan make_scale_back_plan(int32_t grid_height, int32_t grid_width, const Geometry& g) {
  ScaleBackPlan p;
  p.grid_height = grid_height;
  p.grid_width = grid_width;
  p.input_height = g.input_height;
  p.input_width = g.input_width;
  p.image_height = g.image_height;
  p.image_width = g.image_width;
  const double ry = bodypix_pixel::resize_ratio(grid_height, g.input_height, true);
  const double rx = bodypix_pixel::resize_ratio(grid_width, g.input_width, true);
  p.input_rows.resize(static_cast<size_t>(g.input_height));
  p.input_columns.resize(static_cast<size_t>(g.input_width));
  for (int32_t r = 0; r < g.input_height; ++r)
    p.input_rows[static_cast<size_t>(r)] = bodypix_pixel::resize_sample(r, ry, grid_height);
  for (int32_t c = 0; c < g.input_width; ++c)
    p.input_columns[static_cast<size_t>(c)] = bodypix_pixel::resize_sample(c, rx, grid_width);
  const float y1 = bodypix_pixel::box_low(g.pad_top, g.image_height, g.pad_bottom);
  const float y2 = bodypix_pixel::box_high(g.pad_top, g.image_height, g.pad_bottom);
  const float x1 = bodypix_pixel::box_low(g.pad_left, g.image_width, g.pad_right);
  const float x2 = bodypix_pixel::box_high(g.pad_left, g.image_width, g.pad_right);
  p.crop_rows.resize(static_cast<size_t>(g.image_height));
  p.crop_columns.resize(static_cast<size_t>(g.image_width));
  for (int32_t y = 0; y < g.image_height; ++y)
    p.crop_rows[static_cast<size_t>(y)] = bodypix_pixel::crop_sample(y, g.image_height, y1, y2, g.input_height);
  for (int32_t x = 0; x < g.image_width; ++x)
    p.crop_columns[static_cast<size_t>(x)] = bodypix_pixel::crop_sample(x, g.image_width, x1, x2, g.input_width);
  return p;
}

namespace cpu {
namespace {

// ---- instruction set ----------------------------------------------------------------------

#if PS_HAVE_BODYPIX_SIMD
/// Whether an opt-out variable is set (to a non-empty value other than "0").
bool disabled_by(const char* variable) {
  const char* v = std::getenv(variable);
  return v != nullptr && v[0] != '\0' && !(v[0] == '0' && v[1] == '\0');
}
#endif

/// The SIMD kernels this CPU runs (kScalar: the scalar loops). Where the kernels are built
/// (x86-64, GCC/Clang): AVX-512F, else AVX2, else none; PERSON_SEGMENTATION_DISABLE_AVX512 skips
/// the first, PERSON_SEGMENTATION_DISABLE_AVX2 both (as for the v0.0.x kernels), so that tests run
/// every path on one machine.
enum class Isa { kScalar, kAvx2, kAvx512 };
Isa simd_isa() {
#if PS_HAVE_BODYPIX_SIMD
  static const Isa isa = [] {
    if (disabled_by("PERSON_SEGMENTATION_DISABLE_AVX2")) return Isa::kScalar;
    if (__builtin_cpu_supports("avx512f") && !disabled_by("PERSON_SEGMENTATION_DISABLE_AVX512")) return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
    return Isa::kScalar;
  }();
  return isa;
#else
  return Isa::kScalar;
#endif
}

// ---- pre-processing -----------------------------------------------------------------------
//
// tfjs' ResizeBilinear (no align corners) of the zero-padded image, then x / 127.5 - 1. The blend
// of an output element is top + (bottom - top) * fr, where top and bottom are the horizontal lerps
// l + (u - l) * fc of its two source rows: those depend only on the source row and the output
// element, so each thread lerps a source row once (float64, into one of two slots, reused by the
// next output rows while they sample it) and then blends the two rows of every output row.
//
// Every element gets exactly the scalar reference's float64 operations in its order (no FMA:
// -ffp-contract=off, and no fused intrinsic): float -> double is exact, and add, subtract,
// multiply are IEEE-exact per SIMD lane. The loops are plain loops over the plan's per-element
// source indices and fractions, compiled for the baseline and, by simd_isa(), for AVX2 and
// AVX-512F, where they vectorise; the AVX-512F copy lerps the columns 8 elements at a time with
// a two-register permute of the 32 floats of the row that the 8 elements read (no gathers, slow on
// some CPUs), falling back to the plain loop for a block that reads a wider span (a strong
// downscale).

/// Output elements per block of the AVX-512F column lerp, and the span of a padded row (floats)
/// that a block may read to take the permute.
constexpr int32_t kPreprocessBlock = 8;
constexpr int32_t kPreprocessWindow = 32;

/// What every thread reads: each output row's two source rows (padded-image coordinates), and per
/// output element j = column * 3 + channel its two source indices in a padded float row (column *
/// 3 + channel) and the column fraction. The per-element arrays have `lanes` entries (elements
/// rounded up to whole blocks; the extra ones read index 0). `window[b]`: where block b's window
/// starts in the padded row, or -1 when its elements span more than kPreprocessWindow floats;
/// window_index[16 b ...]: their 8 lower then 8 upper indices relative to it.
struct PreprocessPlan {
  int32_t image_height = 0, image_width = 0, pad_top = 0, pad_left = 0;
  int32_t padded_width = 0;
  int32_t elements = 0;  // input_width * 3
  int32_t lanes = 0;     // elements rounded up to a multiple of kPreprocessBlock
  std::vector<AxisSample> rows;
  std::vector<int32_t> lower, upper;
  std::vector<double> frac;
  std::vector<int32_t> window;
  std::vector<int32_t> window_index;
};

PreprocessPlan make_preprocess_plan(const Geometry& g) {
  PreprocessPlan p;
  p.image_height = g.image_height;
  p.image_width = g.image_width;
  p.pad_top = g.pad_top;
  p.pad_left = g.pad_left;
  const int32_t ph = g.image_height + g.pad_top + g.pad_bottom;
  p.padded_width = g.image_width + g.pad_left + g.pad_right;
  p.elements = g.input_width * 3;
  p.lanes = (p.elements + kPreprocessBlock - 1) / kPreprocessBlock * kPreprocessBlock;
  const double ry = bodypix_pixel::resize_ratio(ph, g.input_height, false);
  const double rx = bodypix_pixel::resize_ratio(p.padded_width, g.input_width, false);
  p.rows.resize(static_cast<size_t>(g.input_height));
  for (int32_t r = 0; r < g.input_height; ++r) p.rows[static_cast<size_t>(r)] = bodypix_pixel::resize_sample(r, ry, ph);
  const size_t lanes = static_cast<size_t>(p.lanes);
  p.lower.assign(lanes, 0);
  p.upper.assign(lanes, 0);
  p.frac.assign(lanes, 0.0);
  for (int32_t c = 0; c < g.input_width; ++c) {
    const AxisSample s = bodypix_pixel::resize_sample(c, rx, p.padded_width);
    for (int32_t ch = 0; ch < 3; ++ch) {
      const size_t j = static_cast<size_t>(c) * 3 + static_cast<size_t>(ch);
      p.lower[j] = s.lower * 3 + ch;
      p.upper[j] = s.upper * 3 + ch;
      p.frac[j] = s.frac;
    }
  }
  // The lanes past the last element (computed, never stored) repeat its sources, so that the
  // last block's window stays as narrow as the others.
  for (size_t j = static_cast<size_t>(p.elements); j < lanes; ++j) {
    p.lower[j] = p.lower[static_cast<size_t>(p.elements) - 1];
    p.upper[j] = p.upper[static_cast<size_t>(p.elements) - 1];
  }
  const size_t blocks = lanes / kPreprocessBlock;
  p.window.assign(blocks, -1);
  p.window_index.assign(2 * lanes, 0);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t j0 = b * kPreprocessBlock;
    int32_t low = p.lower[j0], high = p.upper[j0];
    for (size_t j = j0; j < j0 + kPreprocessBlock; ++j) {
      low = std::min({low, p.lower[j], p.upper[j]});
      high = std::max({high, p.lower[j], p.upper[j]});
    }
    if (high - low >= kPreprocessWindow) continue;
    p.window[b] = low;
    for (size_t k = 0; k < kPreprocessBlock; ++k) {
      p.window_index[2 * j0 + k] = p.lower[j0 + k] - low;
      p.window_index[2 * j0 + kPreprocessBlock + k] = p.upper[j0 + k] - low;
    }
  }
  return p;
}

/// One thread's rows: a padded image row as float32 pixel values (zero in the padding columns
/// and in kPreprocessWindow floats past the end, which a window may read), two horizontally
/// lerped source rows (float64, `lanes` each) with the source rows they hold (-1: none), and the
/// lerp of a padding row (+0 everywhere: 0 + (0 - 0) * fc).
struct PreprocessRows {
  explicit PreprocessRows(const PreprocessPlan& p)
      : pixels(static_cast<size_t>(p.padded_width) * 3 + kPreprocessWindow, 0.0f),
        zeros(static_cast<size_t>(p.lanes), 0.0) {
    for (std::vector<double>& l : lerped) l.resize(static_cast<size_t>(p.lanes));
  }
  std::vector<float> pixels;
  std::vector<double> lerped[2];
  int32_t held[2] = {-1, -1};
  std::vector<double> zeros;
};

/// Image row `y` as pixel values (pixel::pixel_value) into `dst` (width * 3 floats).
template <typename T>
PS_BODYPIX_ALWAYS_INLINE inline void load_pixels(const ImageView& image, int32_t y, int32_t width,
                                                 float* __restrict dst) {
  const T* __restrict src = static_cast<const T*>(image.data) + y * image.stride_height;
  if (image.stride_width == 3 && image.stride_channels == 1) {
    for (int32_t k = 0; k < width * 3; ++k) dst[k] = pixel::pixel_value(src[k]);
    return;
  }
  for (int32_t x = 0; x < width; ++x)
    for (int32_t ch = 0; ch < 3; ++ch)
      dst[x * 3 + ch] = pixel::pixel_value(src[x * image.stride_width + ch * image.stride_channels]);
}

/// The horizontal lerps of elements [begin, end) of a padded row: dst[j] = l + (u - l) * frac[j]
/// (the blend's top or bottom).
PS_BODYPIX_ALWAYS_INLINE inline void lerp_columns(const PreprocessPlan& p, const float* __restrict pixels,
                                                  int32_t begin, int32_t end, double* __restrict dst) {
  const int32_t* __restrict lower = p.lower.data();
  const int32_t* __restrict upper = p.upper.data();
  const double* __restrict frac = p.frac.data();
  for (int32_t j = begin; j < end; ++j) {
    const double l = static_cast<double>(pixels[lower[j]]);
    const double u = static_cast<double>(pixels[upper[j]]);
    dst[j] = l + (u - l) * frac[j];
  }
}

/// The column lerps of a whole padded row, plain loop (the baseline and AVX2 copies).
struct PlainColumns {
  template <typename T>
  PS_BODYPIX_ALWAYS_INLINE static inline void load(const ImageView& image, int32_t y, int32_t width, float* dst) {
    load_pixels<T>(image, y, width, dst);
  }
  PS_BODYPIX_ALWAYS_INLINE static inline void lerp(const PreprocessPlan& p, const float* pixels, double* dst) {
    lerp_columns(p, pixels, 0, p.lanes, dst);
  }
};

#if PS_HAVE_BODYPIX_SIMD
/// 16 pixel values (pixel::pixel_value), AVX-512F: uint8 widened (exact); float NaN -> +0, then
/// < 0 -> 0 and > 255 -> 255 (a -0 stays -0, as in the scalar function).
__attribute__((target("avx512f"))) inline __m512 pixel_values_avx512(const uint8_t* src) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src))));
}
__attribute__((target("avx512f"))) inline __m512 pixel_values_avx512(const float* src) {
  const __m512 zero = _mm512_setzero_ps(), high = _mm512_set1_ps(255.0f);
  __m512 v = _mm512_loadu_ps(src);
  v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
  v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
  return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, high, _CMP_GT_OQ), high);
}

/// The column lerps of a whole padded row, AVX-512F: per block of 8 elements, the 8 lower and 8
/// upper pixels picked out of the block's 32-float window by a permute, widened, lerped; once
/// per source row. Its functions carry target("avx512f") themselves, like
/// preprocess_rows_avx512 that they are inlined into.
struct WindowColumnsAvx512 {
  /// load_pixels, 16 values at a time where the row is contiguous.
  template <typename T>
  __attribute__((target("avx512f"))) static void load(const ImageView& image, int32_t y, int32_t width, float* dst) {
    if (image.stride_width != 3 || image.stride_channels != 1) {
      load_pixels<T>(image, y, width, dst);
      return;
    }
    const T* src = static_cast<const T*>(image.data) + y * image.stride_height;
    const int32_t n = width * 3;
    int32_t k = 0;
    for (; k + 16 <= n; k += 16) _mm512_storeu_ps(dst + k, pixel_values_avx512(src + k));
    for (; k < n; ++k) dst[k] = pixel::pixel_value(src[k]);
  }
  __attribute__((target("avx512f"))) static void lerp(const PreprocessPlan& p, const float* pixels, double* dst) {
    const int32_t blocks = p.lanes / kPreprocessBlock;
    const int32_t* __restrict window = p.window.data();
    const int32_t* __restrict index = p.window_index.data();
    const double* __restrict frac = p.frac.data();
    for (int32_t b = 0; b < blocks; ++b) {
      const int32_t j = b * kPreprocessBlock;
      const int32_t start = window[b];
      if (start < 0) {
        lerp_columns(p, pixels, j, j + kPreprocessBlock, dst);
        continue;
      }
      // lanes 0-7: the lower pixels, 8-15: the upper ones
      const __m512 both = _mm512_permutex2var_ps(_mm512_loadu_ps(pixels + start), _mm512_loadu_si512(index + 2 * j),
                                                 _mm512_loadu_ps(pixels + start + 16));
      const __m512d l = _mm512_cvtps_pd(_mm512_castps512_ps256(both));
      const __m512d u = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(both), 1)));
      _mm512_storeu_pd(dst + j, _mm512_add_pd(l, _mm512_mul_pd(_mm512_sub_pd(u, l), _mm512_loadu_pd(frac + j))));
    }
  }
};
#endif

/// An output row: top + (bottom - top) * frac, then f32(f32(v) / 127.5f - 1).
PS_BODYPIX_ALWAYS_INLINE inline void lerp_rows(const double* __restrict top, const double* __restrict bottom,
                                               double frac, int32_t n, float* __restrict dst) {
  for (int32_t j = 0; j < n; ++j)
    dst[j] = pixel::normalize_input(static_cast<float>(top[j] + (bottom[j] - top[j]) * frac));
}

/// The horizontal lerps of padded row `row`, from a slot (lerped now into the slot not holding
/// `keep`, the output row's other source row, when neither holds it).
template <typename T, typename Columns>
PS_BODYPIX_ALWAYS_INLINE inline const double* lerped_row(const PreprocessPlan& p, const ImageView& image,
                                                         PreprocessRows& s, int32_t row, int32_t keep) {
  const int32_t y = row - p.pad_top;
  if (y < 0 || y >= p.image_height) return s.zeros.data();
  if (s.held[0] == row) return s.lerped[0].data();
  if (s.held[1] == row) return s.lerped[1].data();
  const int i = s.held[0] == keep ? 1 : 0;
  Columns::template load<T>(image, y, p.image_width, s.pixels.data() + static_cast<size_t>(p.pad_left) * 3);
  Columns::lerp(p, s.pixels.data(), s.lerped[i].data());
  s.held[i] = row;
  return s.lerped[i].data();
}

/// Output rows [begin, end).
template <typename T, typename Columns>
PS_BODYPIX_ALWAYS_INLINE inline void preprocess_rows(const PreprocessPlan& p, const ImageView& image, PreprocessRows& s,
                                                     int64_t begin, int64_t end, float* out) {
  for (int64_t r = begin; r < end; ++r) {
    const AxisSample& sr = p.rows[static_cast<size_t>(r)];
    const double* top = lerped_row<T, Columns>(p, image, s, sr.lower, sr.upper);
    const double* bottom = lerped_row<T, Columns>(p, image, s, sr.upper, sr.lower);
    lerp_rows(top, bottom, sr.frac, p.elements, out + r * p.elements);
  }
}

using PreprocessKernel = void (*)(const PreprocessPlan&, const ImageView&, PreprocessRows&, int64_t, int64_t, float*);

template <typename T>
void preprocess_rows_baseline(const PreprocessPlan& p, const ImageView& image, PreprocessRows& s, int64_t begin,
                              int64_t end, float* out) {
  preprocess_rows<T, PlainColumns>(p, image, s, begin, end, out);
}

#if PS_HAVE_BODYPIX_SIMD
// As part_scores_avx512/avx2 below: only these are compiled for the wider instruction sets.
template <typename T>
__attribute__((target("avx512f"))) void preprocess_rows_avx512(const PreprocessPlan& p, const ImageView& image,
                                                               PreprocessRows& s, int64_t begin, int64_t end,
                                                               float* out) {
  preprocess_rows<T, WindowColumnsAvx512>(p, image, s, begin, end, out);
}
template <typename T>
__attribute__((target("avx2"))) void preprocess_rows_avx2(const PreprocessPlan& p, const ImageView& image,
                                                          PreprocessRows& s, int64_t begin, int64_t end, float* out) {
  preprocess_rows<T, PlainColumns>(p, image, s, begin, end, out);
}
#endif

template <typename T>
PreprocessKernel preprocess_kernel() {
#if PS_HAVE_BODYPIX_SIMD
  switch (simd_isa()) {
    case Isa::kAvx512:
      return &preprocess_rows_avx512<T>;
    case Isa::kAvx2:
      return &preprocess_rows_avx2<T>;
    default:
      break;
  }
#endif
  return &preprocess_rows_baseline<T>;
}

template <typename T>
void preprocess_as(const ImageView& image, const Geometry& g, int32_t num_threads, float* out) {
  const PreprocessPlan plan = make_preprocess_plan(g);
  const PreprocessKernel rows = preprocess_kernel<T>();
  person_segmentation::cpu::parallel_for(g.input_height, num_threads, [&](int64_t begin, int64_t end) {
    PreprocessRows s(plan);
    rows(plan, image, s, begin, end, out);
  });
}

// ---- scale-back ---------------------------------------------------------------------------

using AssignRow = void (*)(const simd::InstanceKernel&, int32_t, const int32_t*, int32_t, int32_t*);
using PartArgmax = void (*)(const float* const*, const double*, int32_t, double, int32_t*);

AssignRow instance_kernel() {
#if PS_HAVE_BODYPIX_SIMD
  switch (simd_isa()) {
    case Isa::kAvx512:
      return &simd::assign_avx512;
    case Isa::kAvx2:
      return &simd::assign_avx2;
    default:
      return nullptr;
  }
#else
  return nullptr;
#endif
}

PartArgmax part_kernel() {
  static_assert(kNumParts == 24, "the SIMD part kernels are for 24 parts");
#if PS_HAVE_BODYPIX_SIMD
  switch (simd_isa()) {
    case Isa::kAvx512:
      return &simd::part_argmax_avx512;
    case Isa::kAvx2:
      return &simd::part_argmax_avx2;
    default:
      return nullptr;
  }
#else
  return nullptr;
#endif
}

// The scale-back's arithmetic is bodypix_pixel::blend (bodypix_pixel::lerp horizontally, then
// vertically) for both resizes. The horizontal lerp of a row depends only on that row and the
// column, so it is computed once per row and reused by every row that samples it: the grid rows' segment
// logits at every input column (once per call), and each input row's segment scores at every
// image column (once per cached input row). Each output row is then one vertical lerp of two
// such rows: contiguous arrays that the compiler vectorises, with the same IEEE operations per
// element as blend (no FMA: -ffp-contract=off). Gathers (an indexed load) are separate scalar
// loops: GCC 12 does not vectorise them for generic tuning.

/// The 24 part logits of one input cell from the grid's compact part logits (24 floats per
/// grid cell): the float32 align-corners lerp (the logit half of bodypix_pixel::input_score).
PS_BODYPIX_ALWAYS_INLINE inline void part_logits_at(const float* tl, const float* tr, const float* bl, const float* br,
                                                    double fc, double fr, float* dst) {
  for (int32_t k = 0; k < kNumParts; ++k)
    dst[k] = static_cast<float>(bodypix_pixel::blend(tl[k], tr[k], bl[k], br[k], fc, fr));
}

/// The 24 part scores of one input cell from its logits: input_score's sigmoid (NaN stays NaN).
PS_BODYPIX_ALWAYS_INLINE inline void part_scores_of(const float* logits, float* dst) {
  for (int32_t k = 0; k < kNumParts; ++k) dst[k] = pixel::sigmoid(logits[k]);
}

/// The scalar dominance test of four input cells (cells[0..3], 24 part logits each), as
/// simd::part_dominance_*: -1 if a logit is NaN, else the first part k* with the greatest least
/// logit over the cells, *least that logit, *rival the greatest logit of the other parts.
int32_t part_dominance_scalar(const float* const* cells, float* least, float* rival) {
  float low[kNumParts], high[kNumParts];
  for (int32_t k = 0; k < kNumParts; ++k) {
    const float w = cells[0][k], x = cells[1][k], y = cells[2][k], z = cells[3][k];
    if (w != w || x != x || y != y || z != z) return -1;
    low[k] = std::min(std::min(w, x), std::min(y, z));
    high[k] = std::max(std::max(w, x), std::max(y, z));
  }
  int32_t best = 0;
  for (int32_t k = 1; k < kNumParts; ++k)
    if (low[k] > low[best]) best = k;
  float other = -std::numeric_limits<float>::infinity();
  for (int32_t k = 0; k < kNumParts; ++k)
    if (k != best && high[k] > other) other = high[k];
  *least = low[best];
  *rival = other;
  return best;
}

using PartDominance = int32_t (*)(const float* const*, float*, float*);

PartDominance part_dominance_for_isa() {
#if PS_HAVE_BODYPIX_SIMD
  switch (simd_isa()) {
    case Isa::kAvx512:
      return &simd::part_dominance_avx512;
    case Isa::kAvx2:
      return &simd::part_dominance_avx2;
    default:
      break;
  }
#endif
  return &part_dominance_scalar;
}

/// The part every image pixel between four input cells gets, from the cells' part logits,
/// without the lerps, where one part wins by a margin; else -1 (the caller computes the pixel).
///
/// Why it is exact. `dominance` gives k*, the first part with the greatest least logit m over
/// the four cells, and b, the greatest logit of any other part over them (no logit is NaN).
/// The scores are S(logit) = pixel::sigmoid, the same function of the logit for every cell:
/// S is monotone up to at most one float32 ulp (its double is within a few double ulps of the
/// true sigmoid), so each cell's score of k* is >= S(m) (1 - 2^-23) and each other score
/// <= S(b) (1 + 2^-23). A pixel's values are f32(blend(...)) of the four cells' scores
/// (nonnegative): blend in float64 stays within a few double ulps of its operands' range, and
/// the float32 rounding moves it by at most 2^-24 relatively. So with S(m) >= 2^-19 and
/// S(m) > S(b) (1 + 2^-17), k*'s value exceeds every other part's by more than 2^-19
/// relatively: strictly greater, so tfjs' argmax (first index wins ties) is k* whatever the
/// weights. Anything else (close parts, saturated scores, NaN) returns -1, which is always
/// safe: the pixel is then computed as before. m <= b can never pass (S(m) <= S(b) (1 + 2^-23)),
/// so it is refused before the two sigmoids.
int32_t dominant_part(PartDominance dominance, const float* const* cells) {
  float least = 0.0f, rival = 0.0f;
  const int32_t best = dominance(cells, &least, &rival);
  if (best < 0 || !(least > rival)) return -1;
  // A sufficient condition without the two sigmoids (true sigmoid s): for -13 <= m <= 8 and
  // m - b >= 0.05, s(m) / s(b) = 1 + (e^(m - b) - 1) s(-m) >= 1 + 0.05 s(-8) > 1 + 2^-16 and
  // s(m) >= s(-13) > 1.18 * 2^-19: more than the conditions below, with room for S's ulps.
  if (least >= -13.0f && least <= 8.0f && static_cast<double>(least) - static_cast<double>(rival) >= 0.05) return best;
  const double winner = pixel::sigmoid(least);
  const double runner_up = pixel::sigmoid(rival);
  return (winner >= 0x1p-19 && winner > runner_up * (1.0 + 0x1p-17)) ? best : -1;
}

/// The horizontal lerp of one row at n output columns: out[i] = v[lower[i]] +
/// (v[upper[i]] - v[lower[i]]) * frac[i], via the scratch rows low, high (n each).
PS_BODYPIX_ALWAYS_INLINE inline void horizontal_at(const double* v, const int32_t* lower, const int32_t* upper,
                                                   const double* frac, int32_t n, double* low, double* high,
                                                   double* out) {
  for (int32_t i = 0; i < n; ++i) {
    low[i] = v[lower[i]];
    high[i] = v[upper[i]];
  }
  for (int32_t i = 0; i < n; ++i) out[i] = bodypix_pixel::lerp(low[i], high[i], frac[i]);
}

/// The segment scores of one input row (input_score), from the horizontal lerps of its two
/// grid rows: sigmoid(f32(top + (bottom - top) * fr)), widened to float64 (exact).
PS_BODYPIX_ALWAYS_INLINE inline void segment_row_at(const double* top, const double* bottom, double fr, int32_t n,
                                                    double* out) {
  for (int32_t c = 0; c < n; ++c)
    out[c] = static_cast<double>(pixel::sigmoid(static_cast<float>(bodypix_pixel::lerp(top[c], bottom[c], fr))));
}

/// One image row of the crop-and-resize, from the horizontal lerps of its two input rows: the
/// score f32(top + (bottom - top) * fr) and the mask rule (the caller mends the columns that
/// are not sampled, kCropZero / kCropNan).
PS_BODYPIX_ALWAYS_INLINE inline void crop_row_at(const double* top, const double* bottom, double fr, float threshold,
                                                 int32_t n, float* scores, uint8_t* mask) {
  for (int32_t x = 0; x < n; ++x) {
    const float v = static_cast<float>(bodypix_pixel::lerp(top[x], bottom[x], fr));
    scores[x] = v;
    mask[x] = static_cast<uint8_t>(bodypix_pixel::is_person(v, threshold));
  }
}

/// The scale-back's per-cell and per-row functions, compiled for one instruction set.
struct RowKernels {
  void (*part_logits)(const float*, const float*, const float*, const float*, double, double, float*);
  void (*part_scores)(const float*, float*);
  void (*horizontal)(const double*, const int32_t*, const int32_t*, const double*, int32_t, double*, double*, double*);
  void (*segment_row)(const double*, const double*, double, int32_t, double*);
  void (*crop_row)(const double*, const double*, double, float, int32_t, float*, uint8_t*);
};

// One copy of the functions per instruction set: `target` is empty for the baseline, else a
// GCC/Clang target attribute. Only these copies are compiled for the wider instruction sets (the
// inline functions they inline keep their baseline out-of-line copies), and they run only where
// simd_isa() says so.
#define PS_BODYPIX_ROW_KERNELS(name, target)                                                                     \
  target void name##_part_logits(const float* tl, const float* tr, const float* bl, const float* br, double fc,  \
                                 double fr, float* dst) {                                                        \
    part_logits_at(tl, tr, bl, br, fc, fr, dst);                                                                 \
  }                                                                                                              \
  target void name##_part_scores(const float* logits, float* dst) { part_scores_of(logits, dst); }               \
  target void name##_horizontal(const double* v, const int32_t* lower, const int32_t* upper, const double* frac, \
                                int32_t n, double* low, double* high, double* out) {                             \
    horizontal_at(v, lower, upper, frac, n, low, high, out);                                                     \
  }                                                                                                              \
  target void name##_segment_row(const double* top, const double* bottom, double fr, int32_t n, double* out) {   \
    segment_row_at(top, bottom, fr, n, out);                                                                     \
  }                                                                                                              \
  target void name##_crop_row(const double* top, const double* bottom, double fr, float threshold, int32_t n,    \
                              float* scores, uint8_t* mask) {                                                    \
    crop_row_at(top, bottom, fr, threshold, n, scores, mask);                                                    \
  }                                                                                                              \
  constexpr RowKernels name##_row_kernels{&name##_part_logits, &name##_part_scores, &name##_horizontal,          \
                                          &name##_segment_row, &name##_crop_row};

PS_BODYPIX_ROW_KERNELS(baseline, )
#if PS_HAVE_BODYPIX_SIMD
PS_BODYPIX_ROW_KERNELS(avx512, __attribute__((target("avx512f"))))
PS_BODYPIX_ROW_KERNELS(avx2, __attribute__((target("avx2"))))
#endif
#undef PS_BODYPIX_ROW_KERNELS

const RowKernels& row_kernels_for_isa() {
#if PS_HAVE_BODYPIX_SIMD
  switch (simd_isa()) {
    case Isa::kAvx512:
      return avx512_row_kernels;
    case Isa::kAvx2:
      return avx2_row_kernels;
    default:
      break;
  }
#endif
  return baseline_row_kernels;
}

/// What every thread of one scale-back reads: the plan's samples as arrays, the grid's segment
/// logits lerped horizontally to every input column, and the grid's part logits, compact.
struct ScaleBackArrays {
  std::vector<int32_t> input_lower, input_upper;  // per input column
  std::vector<double> input_frac;
  std::vector<int32_t> crop_lower, crop_upper;  // per image column; 0 where not sampled
  std::vector<double> crop_frac;
  std::vector<int32_t> unsampled;    // the image columns that are kCropZero or kCropNan
  std::vector<double> grid_segment;  // [grid_height][input_width]: horizontal lerps
  std::vector<float> grid_parts;     // [grid_height][grid_width][24]

  ScaleBackArrays(const ScaleBackPlan& plan, const Tensor3& heads, const RowKernels& kernels, bool want_parts) {
    for (const AxisSample& s : plan.input_columns) {
      input_lower.push_back(s.lower);
      input_upper.push_back(s.upper);
      input_frac.push_back(s.frac);
    }
    for (int32_t x = 0; x < plan.image_width; ++x) {
      const CropSample& s = plan.crop_columns[static_cast<size_t>(x)];
      const bool sampled = s.kind == bodypix_pixel::kCropSample;
      crop_lower.push_back(sampled ? s.lower : 0);
      crop_upper.push_back(sampled ? s.upper : 0);
      crop_frac.push_back(sampled ? s.frac : 0.0);
      if (!sampled) unsampled.push_back(x);
    }
    const size_t iw = static_cast<size_t>(plan.input_width);
    std::vector<double> logits(static_cast<size_t>(plan.grid_width));
    std::vector<double> low(iw), high(iw);
    grid_segment.resize(static_cast<size_t>(plan.grid_height) * iw);
    for (int32_t y = 0; y < plan.grid_height; ++y) {
      for (int32_t x = 0; x < plan.grid_width; ++x)
        logits[static_cast<size_t>(x)] = static_cast<double>(heads.at(y, x, kSegmentChannel));
      kernels.horizontal(logits.data(), input_lower.data(), input_upper.data(), input_frac.data(), plan.input_width,
                         low.data(), high.data(), grid_segment.data() + static_cast<size_t>(y) * iw);
    }
    if (!want_parts) return;
    grid_parts.reserve(static_cast<size_t>(plan.grid_height) * plan.grid_width * kNumParts);
    for (int32_t y = 0; y < plan.grid_height; ++y)
      for (int32_t x = 0; x < plan.grid_width; ++x)
        for (int32_t k = 0; k < kNumParts; ++k) grid_parts.push_back(heads.at(y, x, kPartChannel + k));
  }
};

/// One cached input row: its segment scores lerped horizontally to every image column
/// [image_width]; its part logits and part scores [input_width][24], column by column, only
/// those person pixels need.
struct ScoreRow {
  int32_t row = -1;
  std::vector<double> segment;
  std::vector<float> part_logits;
  std::vector<float> parts;
  std::vector<uint8_t> state;  // per column: kHasLogits | kHasScores
};

constexpr uint8_t kHasLogits = 1;
constexpr uint8_t kHasScores = 2;

class ScoreRows {
 public:
  ScoreRows(const ScaleBackPlan& plan, const ScaleBackArrays& arrays, const RowKernels& kernels, bool want_parts)
      : plan_(plan),
        arrays_(arrays),
        kernels_(kernels),
        scores_(static_cast<size_t>(plan.input_width)),
        low_(static_cast<size_t>(std::max(plan.input_width, plan.image_width))),
        high_(low_.size()) {
    for (ScoreRow& s : slots_) {
      s.segment.resize(static_cast<size_t>(plan.image_width));
      if (want_parts) {
        s.part_logits.resize(static_cast<size_t>(plan.input_width) * kNumParts);
        s.parts.resize(static_cast<size_t>(plan.input_width) * kNumParts);
        s.state.resize(static_cast<size_t>(plan.input_width));
      }
    }
  }

  /// Input row `row` (its segment computed), keeping the slot of `keep` (the other row in use).
  ScoreRow& get(int32_t row, int32_t keep) {
    for (ScoreRow& s : slots_)
      if (s.row == row) return s;
    ScoreRow& slot = slots_[0].row == keep ? slots_[1] : slots_[0];
    slot.row = row;
    std::fill(slot.state.begin(), slot.state.end(), uint8_t{0});
    const AxisSample& r = plan_.input_rows[static_cast<size_t>(row)];
    const size_t iw = static_cast<size_t>(plan_.input_width);
    kernels_.segment_row(arrays_.grid_segment.data() + static_cast<size_t>(r.lower) * iw,
                         arrays_.grid_segment.data() + static_cast<size_t>(r.upper) * iw, r.frac, plan_.input_width,
                         scores_.data());
    kernels_.horizontal(scores_.data(), arrays_.crop_lower.data(), arrays_.crop_upper.data(), arrays_.crop_frac.data(),
                        plan_.image_width, low_.data(), high_.data(), slot.segment.data());
    return slot;
  }

  /// The 24 part logits of column `column` of a slot, computed on first use.
  const float* part_logits(ScoreRow& slot, int32_t column) const {
    float* dst = slot.part_logits.data() + static_cast<size_t>(column) * kNumParts;
    uint8_t& state = slot.state[static_cast<size_t>(column)];
    if (state & kHasLogits) return dst;
    const AxisSample& r = plan_.input_rows[static_cast<size_t>(slot.row)];
    const AxisSample& c = plan_.input_columns[static_cast<size_t>(column)];
    auto cell = [&](int32_t y, int32_t x) {
      return arrays_.grid_parts.data() +
             (static_cast<size_t>(y) * plan_.grid_width + static_cast<size_t>(x)) * kNumParts;
    };
    kernels_.part_logits(cell(r.lower, c.lower), cell(r.lower, c.upper), cell(r.upper, c.lower), cell(r.upper, c.upper),
                         c.frac, r.frac, dst);
    state = static_cast<uint8_t>(state | kHasLogits);
    return dst;
  }

  /// The 24 part scores of column `column` of a slot, computed on first use.
  const float* parts(ScoreRow& slot, int32_t column) const {
    float* dst = slot.parts.data() + static_cast<size_t>(column) * kNumParts;
    uint8_t& state = slot.state[static_cast<size_t>(column)];
    if (state & kHasScores) return dst;
    kernels_.part_scores(part_logits(slot, column), dst);
    state = static_cast<uint8_t>(state | kHasScores);
    return dst;
  }

 private:
  const ScaleBackPlan& plan_;
  const ScaleBackArrays& arrays_;
  const RowKernels& kernels_;
  std::vector<double> scores_, low_, high_;  // scratch
  ScoreRow slots_[2];
};

/// The dominant part (dominant_part) of the image pixels between input rows top, bottom
/// and columns (lower, lower + 1), per lower column, for the current pair of rows.
class DominantParts {
 public:
  explicit DominantParts(int32_t input_width)
      : width_(input_width), dominance_(part_dominance_for_isa()), parts_(static_cast<size_t>(input_width)) {}

  /// For the pixels sampling columns `lower` (and its upper neighbour, if any) of rows top and
  /// bottom: the part they all get, or -1.
  int32_t at(ScoreRows& rows, ScoreRow& top, ScoreRow& bottom, int32_t lower) {
    if (top.row != top_ || bottom.row != bottom_) {
      top_ = top.row;
      bottom_ = bottom.row;
      std::fill(parts_.begin(), parts_.end(), kUnknown);
    }
    int8_t& part = parts_[static_cast<size_t>(lower)];
    if (part == kUnknown) {
      // The pixel's upper column is lower or lower + 1: a part that wins over both columns wins
      // over either (its least logit over more cells is lower, the rivals' greatest higher).
      const int32_t upper = std::min(lower + 1, width_ - 1);
      const float* cells[4] = {rows.part_logits(top, lower), rows.part_logits(top, upper),
                               rows.part_logits(bottom, lower), rows.part_logits(bottom, upper)};
      part = static_cast<int8_t>(dominant_part(dominance_, cells));
    }
    return part;
  }

 private:
  static constexpr int8_t kUnknown = -2;
  int32_t width_;
  PartDominance dominance_;
  int32_t top_ = -1, bottom_ = -1;
  std::vector<int8_t> parts_;
};

}  // namespace

void preprocess(const ImageView& image, const Geometry& g, int32_t num_threads, float* out) {
  if (image.type == PixelType::kUint8)
    preprocess_as<uint8_t>(image, g, num_threads, out);
  else
    preprocess_as<float>(image, g, num_threads, out);
}

void scale_back(const FloatTensorView& heads, const Geometry& g, float threshold, int32_t num_threads, uint8_t* mask,
                int32_t* parts, float* probability) {
  const ScaleBackPlan plan =
      make_scale_back_plan(static_cast<int32_t>(heads.height), static_cast<int32_t>(heads.width), g);
  const Tensor3 t = tensor_of(heads);
  const RowKernels& kernels = row_kernels_for_isa();
  const ScaleBackArrays arrays(plan, t, kernels, parts != nullptr);
  const int32_t width = g.image_width;
  const size_t row_size = static_cast<size_t>(std::max(width, 1));  // validated > 0
  const int64_t rows = g.image_height;
  const int64_t chunk = std::max<int64_t>(8, rows / (4 * std::max<int64_t>(1, num_threads)));
  const PartArgmax argmax = parts != nullptr ? part_kernel() : nullptr;
  person_segmentation::cpu::parallel_chunks(rows, chunk, num_threads, [&](const auto& next) {
    ScoreRows cache(plan, arrays, kernels, parts != nullptr);
    DominantParts dominant(plan.input_width);
    std::vector<float> row_scores(probability != nullptr ? 0 : static_cast<size_t>(width));
    float part_values[kNumParts];
    // The per-row lists of the pixels no part dominates: the four corners' part scores, the
    // column weight, the column.
    std::vector<const float*> corners(4 * static_cast<size_t>(width));
    std::vector<double> fcs(static_cast<size_t>(width));
    std::vector<int32_t> columns(fcs.size()), found(fcs.size());
    int64_t begin = 0, end = 0;
    while (next(&begin, &end)) {
      for (int64_t y = begin; y < end; ++y) {
        const CropSample& cr = plan.crop_rows[static_cast<size_t>(y)];
        uint8_t* mask_row = mask + y * width;
        float* scores = probability != nullptr ? probability + y * width : row_scores.data();
        int32_t* parts_row = parts != nullptr ? parts + y * width : nullptr;
        if (cr.kind != bodypix_pixel::kCropSample) {
          // A zero row is 0 everywhere; a NaN row NaN but where a column is zero. No person.
          const float nan = static_cast<float>(bodypix_pixel::nan_value());
          for (int32_t x = 0; x < width; ++x) {
            const bool zero = cr.kind == bodypix_pixel::kCropZero ||
                              plan.crop_columns[static_cast<size_t>(x)].kind == bodypix_pixel::kCropZero;
            scores[x] = zero ? 0.0f : nan;
          }
          std::fill_n(mask_row, row_size, uint8_t{0});
          if (parts_row != nullptr) std::fill_n(parts_row, row_size, -1);
          continue;
        }
        ScoreRow& top = cache.get(cr.lower, cr.upper);
        ScoreRow& bottom = cache.get(cr.upper, cr.lower);
        kernels.crop_row(top.segment.data(), bottom.segment.data(), cr.frac, threshold, width, scores, mask_row);
        for (const int32_t x : arrays.unsampled) {
          const CropSample& cc = plan.crop_columns[static_cast<size_t>(x)];
          scores[x] = cc.kind == bodypix_pixel::kCropZero ? 0.0f : static_cast<float>(bodypix_pixel::nan_value());
          mask_row[x] = 0;
        }
        if (parts_row == nullptr) continue;
        // Person pixels are only ever sampled ones (zero and NaN scores are no person).
        int32_t count = 0;
        std::fill_n(parts_row, row_size, -1);
        for (int32_t x = 0; x < width; ++x) {
          if (x + 8 <= width) {  // skip eight non-person pixels at a time
            uint64_t eight;
            std::memcpy(&eight, mask_row + x, sizeof eight);
            if (eight == 0) {
              x += 7;
              continue;
            }
          }
          if (!mask_row[x]) continue;
          const CropSample& cc = plan.crop_columns[static_cast<size_t>(x)];
          const int32_t part = dominant.at(cache, top, bottom, cc.lower);
          if (part >= 0) {
            parts_row[x] = part;
            continue;
          }
          const float** c = corners.data() + 4 * count;
          c[0] = cache.parts(top, cc.lower);
          c[1] = cache.parts(top, cc.upper);
          c[2] = cache.parts(bottom, cc.lower);
          c[3] = cache.parts(bottom, cc.upper);
          fcs[static_cast<size_t>(count)] = cc.frac;
          columns[static_cast<size_t>(count)] = x;
          ++count;
        }
        if (count == 0) continue;
        const double fr = cr.frac;
        if (argmax != nullptr) {  // SIMD: the row's remaining pixels in one call
          argmax(corners.data(), fcs.data(), count, fr, found.data());
        } else {
          for (int32_t q = 0; q < count; ++q) {
            const float* const* c = corners.data() + 4 * q;
            const double fc = fcs[static_cast<size_t>(q)];
            for (int32_t k = 0; k < kNumParts; ++k)
              part_values[k] = static_cast<float>(bodypix_pixel::blend(c[0][k], c[1][k], c[2][k], c[3][k], fc, fr));
            found[static_cast<size_t>(q)] = bodypix_pixel::argmax_tfjs(part_values, kNumParts);
          }
        }
        for (int32_t q = 0; q < count; ++q) parts_row[columns[static_cast<size_t>(q)]] = found[static_cast<size_t>(q)];
      }
    }
  });
}

// ---- pose decoding ------------------------------------------------------------------------

namespace {

/// The keypoint tree (POSE_CHAIN): edge e goes from kParent[e] to kChild[e].
constexpr int32_t kParent[kNumEdges] = {0, 1, 0, 2, 0, 5, 7, 5, 11, 13, 0, 6, 8, 6, 12, 14};
constexpr int32_t kChild[kNumEdges] = {1, 3, 2, 4, 5, 7, 9, 11, 13, 15, 6, 8, 10, 12, 14, 16};

struct Candidate {
  double score;
  int32_t y, x, k;
};

/// posenet's MaxHeap: 1-based index arithmetic on 0-based storage (parent of k is k / 2,
/// children 2k and 2k + 1, so slot 0's only child is slot 1), exactly, for the same order
/// among equal scores.
class MaxHeap {
 public:
  bool empty() const { return last_ == -1; }
  void push(const Candidate& c) {
    items_.push_back(c);
    ++last_;
    int64_t k = last_;
    while (k > 0 && less(k / 2, k)) {
      std::swap(items_[static_cast<size_t>(k)], items_[static_cast<size_t>(k / 2)]);
      k = k / 2;
    }
  }
  Candidate pop() {
    const Candidate top = items_[0];
    std::swap(items_[0], items_[static_cast<size_t>(last_)]);
    --last_;
    items_.pop_back();
    int64_t k = 0;
    while (2 * k <= last_) {
      int64_t j = 2 * k;
      if (j < last_ && less(j, j + 1)) ++j;
      if (!less(k, j)) break;
      std::swap(items_[static_cast<size_t>(k)], items_[static_cast<size_t>(j)]);
      k = j;
    }
    return top;
  }

 private:
  bool less(int64_t i, int64_t j) const {
    return items_[static_cast<size_t>(i)].score < items_[static_cast<size_t>(j)].score;
  }
  std::vector<Candidate> items_;
  int64_t last_ = -1;
};

struct Keypoint {
  double y, x, score;
};

class PoseDecoder {
 public:
  PoseDecoder(const FloatTensorView& heads, int32_t stride) : t_(tensor_of(heads)), stride_(stride) {
    height_ = static_cast<int32_t>(heads.height);
    width_ = static_cast<int32_t>(heads.width);
    scores_.resize(static_cast<size_t>(height_) * width_ * kNumKeypoints);
    for (int32_t y = 0; y < height_; ++y)
      for (int32_t x = 0; x < width_; ++x)
        for (int32_t k = 0; k < kNumKeypoints; ++k) {
          const float logit = t_.at(y, x, kHeatmapChannel + k);
          scores_[index(y, x, k)] = logit != logit ? logit : pixel::sigmoid(logit);
        }
  }

  size_t index(int32_t y, int32_t x, int32_t k) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * kNumKeypoints +
           static_cast<size_t>(k);
  }
  double score(int32_t y, int32_t x, int32_t k) const { return static_cast<double>(scores_[index(y, x, k)]); }

  MaxHeap candidates(double threshold) const {
    MaxHeap heap;
    for (int32_t y = 0; y < height_; ++y)
      for (int32_t x = 0; x < width_; ++x)
        for (int32_t k = 0; k < kNumKeypoints; ++k) {
          const double sc = score(y, x, k);
          if (!(sc >= threshold)) continue;
          bool maximum = true;
          for (int32_t yy = std::max(y - 1, 0); yy < std::min(y + 2, height_) && maximum; ++yy)
            for (int32_t xx = std::max(x - 1, 0); xx < std::min(x + 2, width_); ++xx)
              if (score(yy, xx, k) > sc) {
                maximum = false;
                break;
              }
          if (maximum) heap.push(Candidate{sc, y, x, k});
        }
    return heap;
  }

  /// getStridedIndexNearPoint: clamp(round(p / stride)); NaN coordinates give no cell (the
  /// reference's reads there are `undefined`, i.e. NaN).
  bool cell(double py, double px, int32_t* cy, int32_t* cx) const {
    const double ry = bodypix_pixel::js_round(py / stride_);
    const double rx = bodypix_pixel::js_round(px / stride_);
    if (ry != ry || rx != rx) return false;
    *cy = static_cast<int32_t>(ry < 0 ? 0.0 : (ry > height_ - 1 ? height_ - 1.0 : ry));
    *cx = static_cast<int32_t>(rx < 0 ? 0.0 : (rx > width_ - 1 ? width_ - 1.0 : rx));
    return true;
  }

  double head(int32_t y, int32_t x, int32_t c) const { return static_cast<double>(t_.at(y, x, c)); }

  Keypoint traverse(int32_t edge, const Keypoint& source, int32_t target, int32_t disp_channel) const {
    const double nan = bodypix_pixel::nan_value();
    int32_t cy = 0, cx = 0;
    Keypoint t{nan, nan, nan};
    if (cell(source.y, source.x, &cy, &cx)) {
      t.y = source.y + head(cy, cx, disp_channel + edge);
      t.x = source.x + head(cy, cx, disp_channel + kNumEdges + edge);
    }
    for (int step = 0; step < 2; ++step) {
      if (cell(t.y, t.x, &cy, &cx)) {
        t.y = static_cast<double>(cy) * stride_ + head(cy, cx, kShortOffsetChannel + target);
        t.x = static_cast<double>(cx) * stride_ + head(cy, cx, kShortOffsetChannel + kNumKeypoints + target);
      } else {
        t.y = nan;
        t.x = nan;
      }
    }
    t.score = cell(t.y, t.x, &cy, &cx) ? score(cy, cx, target) : nan;
    return t;
  }

  static bool within_nms(const std::vector<std::vector<Keypoint>>& poses, double squared_radius, double y, double x,
                         int32_t k) {
    for (const auto& pose : poses) {
      const double dy = pose[static_cast<size_t>(k)].y - y;
      const double dx = pose[static_cast<size_t>(k)].x - x;
      if (dy * dy + dx * dx <= squared_radius) return true;
    }
    return false;
  }

  void decode(const PoseOptions& o, std::vector<std::vector<Keypoint>>* poses, std::vector<double>* scores) const {
    MaxHeap heap = candidates(o.score_threshold);
    const double squared_radius = o.nms_radius * o.nms_radius;
    while (static_cast<int64_t>(poses->size()) < o.max_detections && !heap.empty()) {
      const Candidate root = heap.pop();
      const double ry = static_cast<double>(root.y) * stride_ + head(root.y, root.x, kShortOffsetChannel + root.k);
      const double rx =
          static_cast<double>(root.x) * stride_ + head(root.y, root.x, kShortOffsetChannel + kNumKeypoints + root.k);
      if (within_nms(*poses, squared_radius, ry, rx, root.k)) continue;
      std::vector<Keypoint> kp(kNumKeypoints);
      bool known[kNumKeypoints] = {};
      kp[static_cast<size_t>(root.k)] = Keypoint{ry, rx, root.score};
      known[root.k] = true;
      for (int32_t e = kNumEdges - 1; e >= 0; --e) {
        if (known[kChild[e]] && !known[kParent[e]]) {
          kp[static_cast<size_t>(kParent[e])] =
              traverse(e, kp[static_cast<size_t>(kChild[e])], kParent[e], kDisplacementBwdChannel);
          known[kParent[e]] = true;
        }
      }
      for (int32_t e = 0; e < kNumEdges; ++e) {
        if (known[kParent[e]] && !known[kChild[e]]) {
          kp[static_cast<size_t>(kChild[e])] =
              traverse(e, kp[static_cast<size_t>(kParent[e])], kChild[e], kDisplacementFwdChannel);
          known[kChild[e]] = true;
        }
      }
      double sum = 0.0;
      for (int32_t k = 0; k < kNumKeypoints; ++k) {
        const Keypoint& p = kp[static_cast<size_t>(k)];
        if (!within_nms(*poses, squared_radius, p.y, p.x, k)) sum += p.score;
      }
      scores->push_back(sum / kNumKeypoints);
      poses->push_back(std::move(kp));
    }
  }

 private:
  Tensor3 t_;
  int32_t stride_;
  int32_t height_ = 0, width_ = 0;
  std::vector<float> scores_;
};

}  // namespace

Poses decode_poses(const FloatTensorView& heads, const Geometry& g, const PoseOptions& options) {
  const PoseDecoder decoder(heads, options.output_stride);
  std::vector<std::vector<Keypoint>> poses;
  Poses result;
  decoder.decode(options, &poses, &result.scores);
  // Section 10: x * (W + padL + padR) / inW - padL, likewise y; unclamped.
  const double scale_y = static_cast<double>(g.image_height + g.pad_top + g.pad_bottom) / g.input_height;
  const double scale_x = static_cast<double>(g.image_width + g.pad_left + g.pad_right) / g.input_width;
  const double offset_y = -static_cast<double>(g.pad_top);
  const double offset_x = -static_cast<double>(g.pad_left);
  result.keypoints.reserve(poses.size() * kNumKeypoints * 3);
  for (const auto& pose : poses)
    for (const Keypoint& k : pose) {
      result.keypoints.push_back(k.y * scale_y + offset_y);
      result.keypoints.push_back(k.x * scale_x + offset_x);
      result.keypoints.push_back(k.score);
    }
  return result;
}

// ---- instance decoding --------------------------------------------------------------------

bodypix_pixel::InstanceParams instance_params(const FloatTensorView& heads, const Geometry& g, int32_t output_stride,
                                              int32_t refine_steps) {
  bodypix_pixel::InstanceParams p;
  p.scale_x = static_cast<double>(g.input_width) / (static_cast<double>(g.pad_left) + g.pad_right + g.image_width);
  p.scale_y = static_cast<double>(g.input_height) / (static_cast<double>(g.pad_top) + g.pad_bottom + g.image_height);
  p.pad_top = g.pad_top;
  p.pad_left = g.pad_left;
  p.inverse_stride = 1.0 / output_stride;  // 8, 16 or 32: exact
  p.flat_width = bodypix_pixel::js_round((g.input_width - 1.0) / output_stride + 1.0);
  p.cells = static_cast<double>(heads.height) * static_cast<double>(heads.width);
  p.grid_width = static_cast<int32_t>(heads.width);
  p.max_y = g.image_height - 1.0;
  p.max_x = g.image_width - 1.0;
  p.refine_steps = refine_steps;
  return p;
}

namespace {

/// The long offsets of the five matching keypoints, as float64, per flat cell: [dy 0..4, dx 0..4].
struct LongOffsetTable {
  const double* values;
  void operator()(int64_t n, int32_t k, double* dy, double* dx) const {
    *dy = values[n * 2 * kInstanceKeypoints + k];
    *dx = values[n * 2 * kInstanceKeypoints + kInstanceKeypoints + k];
  }
};

/// The pixels of mask row i whose value is exactly 1, as column indices.
int32_t mask_columns(const MaskView& mask, int64_t i, int32_t width, int32_t* columns) {
  const uint8_t* m = mask.data + i * mask.stride_height;
  int32_t count = 0;
  for (int32_t j = 0; j < width; ++j) {
    columns[count] = j;
    count += m[j * mask.stride_width] == 1 ? 1 : 0;  // branch-free compaction
  }
  return count;
}

/// The SIMD decoder: only the keypoints that some person uses (score > 0.3) are followed, and
/// only the persons that use any are compared (both exact, see cpu/bodypix_simd_kernels.hpp).
void decode_instances_simd(AssignRow assign, const FloatTensorView& heads, const MaskView& mask,
                           const double* keypoints, int64_t num_people, const bodypix_pixel::InstanceParams& p,
                           int32_t width, int64_t height, int32_t num_threads, int32_t* out) {
  simd::InstanceKernel k{};
  k.scale_x = p.scale_x;
  k.scale_y = p.scale_y;
  k.pad_top = p.pad_top;
  k.pad_left = p.pad_left;
  k.inverse_stride = p.inverse_stride;
  k.flat_width = p.flat_width;
  k.cells = p.cells;
  k.max_y = p.max_y;
  k.max_x = p.max_x;
  k.refine_steps = p.refine_steps;
  int32_t slot_of[kInstanceKeypoints];
  for (int32_t kp = 0; kp < kInstanceKeypoints; ++kp) {
    bool used = false;
    for (int64_t q = 0; q < num_people; ++q)
      used = used || keypoints[q * kNumKeypoints * 3 + kp * 3 + 2] > kInstanceKeypointScore;
    slot_of[kp] = used ? k.num_slots++ : -1;
  }
  std::vector<simd::InstancePerson> people;
  for (int64_t q = 0; q < num_people; ++q) {
    simd::InstancePerson person{};
    person.index = static_cast<double>(q);
    for (int32_t kp = 0; kp < kInstanceKeypoints; ++kp) {
      const double* v = keypoints + q * kNumKeypoints * 3 + kp * 3;
      if (!(v[2] > kInstanceKeypointScore)) continue;
      const int32_t s = slot_of[kp];
      person.uses[s] = 1;
      person.y[s] = v[0];
      person.x[s] = v[1];
      person.count += 1.0;
    }
    if (person.count > 0.0) people.push_back(person);
  }
  if (people.empty()) {  // every distance is +inf: nobody is assigned
    std::fill(out, out + height * width, -1);
    return;
  }
  k.people = people.data();
  k.num_people = static_cast<int64_t>(people.size());
  // One table per slot: the float32 pair (dy, dx) in one 64-bit word (a single gather).
  const Tensor3 t = tensor_of(heads);
  const int64_t cells = heads.height * heads.width;
  std::vector<uint64_t> tables(static_cast<size_t>(cells) * static_cast<size_t>(k.num_slots));
  for (int32_t kp = 0; kp < kInstanceKeypoints; ++kp) {
    if (slot_of[kp] < 0) continue;
    uint64_t* table = tables.data() + slot_of[kp] * cells;
    k.tables[slot_of[kp]] = table;
    for (int64_t y = 0; y < heads.height; ++y)
      for (int64_t x = 0; x < heads.width; ++x) {
        const float dy = t.at(y, x, kLongOffsetChannel + kp);
        const float dx = t.at(y, x, kLongOffsetChannel + kNumKeypoints + kp);
        uint32_t bits_y, bits_x;
        std::memcpy(&bits_y, &dy, 4);
        std::memcpy(&bits_x, &dx, 4);
        table[y * heads.width + x] = static_cast<uint64_t>(bits_y) | (static_cast<uint64_t>(bits_x) << 32);
      }
  }
  person_segmentation::cpu::parallel_chunks(height, 8, num_threads, [&](const auto& next) {
    std::vector<int32_t> columns(static_cast<size_t>(width));
    int64_t begin = 0, end = 0;
    while (next(&begin, &end)) {
      for (int64_t i = begin; i < end; ++i) {
        int32_t* row = out + i * width;
        std::fill(row, row + width, -1);
        const int32_t count = mask_columns(mask, i, width, columns.data());
        if (count > 0) assign(k, static_cast<int32_t>(i), columns.data(), count, row);
      }
    }
  });
}

}  // namespace

void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const Geometry& g, int32_t output_stride, int32_t refine_steps, int32_t num_threads,
                      int32_t* out) {
  const bodypix_pixel::InstanceParams p = instance_params(heads, g, output_stride, refine_steps);
  const int32_t width = g.image_width;
  // The SIMD kernels index cells with int32 (any real heads grid is far smaller).
  const AssignRow assign = instance_kernel();
  if (assign != nullptr && p.cells < 2147483648.0) {
    decode_instances_simd(assign, heads, mask, keypoints, num_people, p, width, g.image_height, num_threads, out);
    return;
  }
  const Tensor3 t = tensor_of(heads);
  std::vector<double> table(static_cast<size_t>(heads.height * heads.width) * 2 * kInstanceKeypoints);
  for (int64_t y = 0; y < heads.height; ++y)
    for (int64_t x = 0; x < heads.width; ++x) {
      double* dst = table.data() + (y * heads.width + x) * 2 * kInstanceKeypoints;
      for (int32_t k = 0; k < kInstanceKeypoints; ++k) {
        dst[k] = static_cast<double>(t.at(y, x, kLongOffsetChannel + k));
        dst[kInstanceKeypoints + k] = static_cast<double>(t.at(y, x, kLongOffsetChannel + kNumKeypoints + k));
      }
    }
  const LongOffsetTable offsets{table.data()};
  person_segmentation::cpu::parallel_chunks(g.image_height, 8, num_threads, [&](const auto& next) {
    double ey[kInstanceKeypoints], ex[kInstanceKeypoints];
    int64_t begin = 0, end = 0;
    while (next(&begin, &end)) {
      for (int64_t i = begin; i < end; ++i) {
        int32_t* row = out + i * width;
        const uint8_t* m = mask.data + i * mask.stride_height;
        const int32_t y = static_cast<int32_t>(i);
        for (int32_t j = 0; j < width; ++j) {
          row[j] = -1;
          if (num_people == 0 || m[j * mask.stride_width] != 1) continue;
          bodypix_pixel::embeddings<1, kInstanceKeypoints>(offsets, p, &y, &j, ey, ex);
          row[j] = bodypix_pixel::nearest_person(ey, ex, kInstanceKeypoints, keypoints, num_people);
        }
      }
    }
  });
}

}  // namespace cpu
}  // namespace person_segmentation::bodypix
