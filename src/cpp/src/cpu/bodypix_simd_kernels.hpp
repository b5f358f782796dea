// The instance decoder of section 11, L pixels of a row at a time in float64 SIMD lanes, and the
// parts argmax of the scale-back (section 8, at the end); included
// only by the translation units compiled for one instruction set (bodypix_simd_avx512.cpp
// with -mavx512f, bodypix_simd_avx2.cpp with -mavx2), each of which defines its `Vec` and
// instantiates assign_row<Vec>. Everything here has internal linkage (see bodypix_simd.hpp).
//
// Bit-identical to the scalar reference (pixel/bodypix_pixel.hpp embeddings + nearest_person):
// - every lane does the reference's float64 operations in the same order (add, multiply,
//   subtract, divide are IEEE-exact per lane; the core is compiled with -ffp-contract=off, so
//   no multiply-add is fused, and no intrinsic used here is a fused one);
// - the cell map keeps ((pad + p + 1) * scale - 1) * (1 / stride), the reference's own order
//   (1 / stride is a power of two: the product equals the quotient exactly);
// - Math.round: f = floor(v); f + (v - f >= 0.5). For |v| < 2^52, v - f is exact and so is
//   f + 1; NaN stays NaN (the comparison is false); an integer v (|v| >= 2^52 included) gives
//   v - f = 0, hence v; +-inf gives inf - inf = NaN, compared false, hence +-inf; as js_round
//   (only the sign of a zero may differ, and a zero index is a zero index);
// - Math.min(v, H - 1) with a finite cap is min_pd(cap, v) = cap < v ? cap : v: a NaN v stays
//   NaN, as js_min;
// - the long offsets are float32: widening them to float64 (what the scalar table holds) is exact;
// - a lane whose cell is outside [0, cells) or NaN reads nothing (masked gather), gets a NaN pair
//   and so becomes NaN (y + NaN),
//   as the reference's `undefined`; a NaN position gives a NaN cell again;
// - distances add (x - X)^2 + (y - Y)^2 over a person's used keypoints in ascending order,
//   divide by their count, and move to a person only on a strictly smaller value (NaN never
//   wins), persons in order: first minimum wins.
// Skipping the keypoints nobody uses, and the persons who use none, is exact: the former never
// enter a distance, the latter have distance +inf, which is never strictly smaller.
#pragma once

#include <cstdint>

#include "cpu/bodypix_simd.hpp"
#include "cpu/immintrin_quiet.hpp"

namespace person_segmentation::bodypix::cpu::simd {
namespace {

/// Two float32 quiet NaNs as a (dy, dx) pair: what a gather gives the lanes that read nothing,
/// so that y + dy and x + dx turn them into NaN (the reference's `undefined`) with no select.
constexpr long long kNanPair = 0x7fc000007fc00000LL;

#if defined(__AVX512F__)
/// 8 float64 lanes, AVX-512F.
struct Avx512 {
  static constexpr int kLanes = 8;
  using D = __m512d;
  using M = __mmask8;
  using I = __m256i;  // int32 cell indices
  static D set1(double v) { return _mm512_set1_pd(v); }
  static D columns(const int32_t* c) {
    return _mm512_cvtepi32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
  }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D div(D a, D b) { return _mm512_div_pd(a, b); }
  static D floor(D a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static D cap(D limit, D v) { return _mm512_min_pd(limit, v); }  // limit < v ? limit : v
  static M lt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static M ge(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static M both(M a, M b) { return static_cast<M>(a & b); }
  static D select(M m, D yes, D no) { return _mm512_mask_blend_pd(m, no, yes); }
  static D add_if(M m, D a, D b) { return _mm512_mask_add_pd(a, m, a, b); }  // m ? a + b : a
  /// The int32 cell of the integer-valued n, and whether 0 <= n < cells: cvttpd is exact on
  /// integers in int32 range and gives INT32_MIN for NaN, +-inf and every value out of range, so
  /// one unsigned comparison does both bounds (a negative index is >= 2^31 unsigned, cells < 2^31).
  static I cell_index(D n, double cells, M* valid) {
    const __m256i index = _mm512_cvttpd_epi32(n);
    *valid = static_cast<M>(
        _mm512_cmplt_epu32_mask(_mm512_zextsi256_si512(index), _mm512_set1_epi32(static_cast<int32_t>(cells))));
    return index;
  }
  /// The (dy, dx) pairs of the lanes in `m`; the others read nothing and get (NaN, NaN).
  static void gather(const uint64_t* table, I index, M m, D* dy, D* dx) {
    const __m512i pairs = _mm512_mask_i32gather_epi64(_mm512_set1_epi64(kNanPair), m, index, table, 8);
    // 32-bit elements 0, 2, .., 14 are the dy bit patterns, 1, 3, .., 15 the dx ones.
    const __m512i split =
        _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15), pairs);
    *dy = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_castsi512_si256(split)));
    *dx = _mm512_cvtps_pd(_mm256_castsi256_ps(_mm512_extracti64x4_epi64(split, 1)));
  }
  static void store_index(int32_t* dst, D who) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm512_cvttpd_epi32(who));
  }
};
#endif

#if defined(__AVX2__)
/// 4 float64 lanes, AVX2 (masks are all-ones / all-zeros lanes).
struct Avx2 {
  static constexpr int kLanes = 4;
  using D = __m256d;
  using M = __m256d;
  using I = __m128i;
  static D set1(double v) { return _mm256_set1_pd(v); }
  static D columns(const int32_t* c) {
    return _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
  }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D div(D a, D b) { return _mm256_div_pd(a, b); }
  static D floor(D a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static D cap(D limit, D v) { return _mm256_min_pd(limit, v); }  // limit < v ? limit : v
  static M lt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static M ge(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  static M both(M a, M b) { return _mm256_and_pd(a, b); }
  static D select(M m, D yes, D no) { return _mm256_blendv_pd(no, yes, m); }
  static D add_if(M m, D a, D b) { return _mm256_add_pd(a, _mm256_and_pd(m, b)); }  // m ? a + b : a (+ 0)
  /// The int32 cell of n (meaningless where invalid), and whether 0 <= n < cells.
  static I cell_index(D n, double cells, M* valid) {
    *valid = both(ge(n, set1(0.0)), lt(n, set1(cells)));
    return _mm256_cvttpd_epi32(n);
  }
  /// The (dy, dx) pairs of the lanes in `m`; the others read nothing and get (NaN, NaN).
  static void gather(const uint64_t* table, I index, M m, D* dy, D* dx) {
    const __m256i pairs = _mm256_mask_i32gather_epi64(
        _mm256_set1_epi64x(kNanPair), reinterpret_cast<const long long*>(table), index, _mm256_castpd_si256(m), 8);
    // 32-bit elements 0, 2, 4, 6 are the dy bit patterns, 1, 3, 5, 7 the dx ones.
    const __m256i split = _mm256_permutevar8x32_epi32(pairs, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    *dy = _mm256_cvtps_pd(_mm_castsi128_ps(_mm256_castsi256_si128(split)));
    *dx = _mm256_cvtps_pd(_mm_castsi128_ps(_mm256_extracti128_si256(split, 1)));
  }
  static void store_index(int32_t* dst, D who) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm256_cvttpd_epi32(who));
  }
};
#endif

/// Math.round of every lane (see the header comment for why this is exact).
template <typename V>
inline typename V::D js_round(typename V::D v) {
  const typename V::D f = V::floor(v);
  return V::add_if(V::ge(V::sub(v, f), V::set1(0.5)), f, V::set1(1.0));
}

/// The flat cell of positions (y, x) (bodypix_pixel::flat_cell): `valid` marks the lanes
/// inside [0, cells); the others' index is meaningless (a masked gather reads nothing there).
template <typename V>
inline typename V::I flat_cell(const InstanceKernel& k, typename V::D y, typename V::D x, typename V::M* valid) {
  using D = typename V::D;
  const D one = V::set1(1.0);
  const D cy = js_round<V>(V::mul(V::sub(V::mul(V::add(V::add(V::set1(k.pad_top), y), one), V::set1(k.scale_y)), one),
                                  V::set1(k.inverse_stride)));
  const D cx = js_round<V>(V::mul(V::sub(V::mul(V::add(V::add(V::set1(k.pad_left), x), one), V::set1(k.scale_x)), one),
                                  V::set1(k.inverse_stride)));
  const D n = V::add(V::mul(cy, V::set1(k.flat_width)), cx);
  // n is integer-valued (or NaN, +-inf): cy, cx are Math.round results, flat_width an integer,
  // and rounded sums and products of integers are integers.
  return V::cell_index(n, k.cells, valid);
}

/// L pixels (row, columns[0..L)): the embeddings of the S slots (all chains in lockstep: they
/// are independent, so their gathers overlap), then the nearest person; the indices go to who[].
template <typename V, int S>
inline void assign_lanes(const InstanceKernel& k, int32_t row, const int32_t* columns, int32_t* who) {
  using D = typename V::D;
  using M = typename V::M;
  using I = typename V::I;
  const D max_y = V::set1(k.max_y);
  const D max_x = V::set1(k.max_x);
  D y[S], x[S];
  M valid[S];
  I index[S];
  {
    const D y0 = V::set1(static_cast<double>(row));
    const D x0 = V::columns(columns);
    M v0;
    const I i0 = flat_cell<V>(k, y0, x0, &v0);
    for (int s = 0; s < S; ++s) {
      y[s] = y0;
      x[s] = x0;
      valid[s] = v0;
      index[s] = i0;
    }
  }
  for (int32_t t = 0;; ++t) {
    for (int s = 0; s < S; ++s) {
      D dy, dx;
      V::gather(k.tables[s], index[s], valid[s], &dy, &dx);
      y[s] = V::add(y[s], dy);  // NaN in the lanes that read nothing
      x[s] = V::add(x[s], dx);
    }
    if (t == k.refine_steps) break;
    for (int s = 0; s < S; ++s) {
      y[s] = V::cap(max_y, y[s]);
      x[s] = V::cap(max_x, x[s]);
      index[s] = flat_cell<V>(k, y[s], x[s], &valid[s]);
    }
  }
  D best = V::set1(__builtin_inf());
  D best_index = V::set1(-1.0);
  for (int64_t q = 0; q < k.num_people; ++q) {
    const InstancePerson& p = k.people[q];
    D distance = V::set1(0.0);
    for (int s = 0; s < S; ++s) {
      if (!p.uses[s]) continue;
      const D dx = V::sub(x[s], V::set1(p.x[s]));
      const D dy = V::sub(y[s], V::set1(p.y[s]));
      distance = V::add(distance, V::add(V::mul(dx, dx), V::mul(dy, dy)));
    }
    distance = V::div(distance, V::set1(p.count));
    const M smaller = V::lt(distance, best);
    best = V::select(smaller, distance, best);
    best_index = V::select(smaller, V::set1(p.index), best_index);
  }
  V::store_index(who, best_index);
}

/// All `count` pixels of a row, L at a time; the last group is filled up with copies of the
/// last pixel (computed, not stored).
template <typename V, int S>
void assign_row_slots(const InstanceKernel& k, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row) {
  constexpr int L = V::kLanes;
  int32_t who[L];
  int32_t q = 0;
  for (; q + L <= count; q += L) {
    assign_lanes<V, S>(k, row, columns + q, who);
    for (int l = 0; l < L; ++l) out_row[columns[q + l]] = who[l];
  }
  if (q < count) {
    int32_t tail[L];
    for (int l = 0; l < L; ++l) tail[l] = columns[q + l < count ? q + l : count - 1];
    assign_lanes<V, S>(k, row, tail, who);
    for (int l = 0; q + l < count; ++l) out_row[columns[q + l]] = who[l];
  }
}

template <typename V>
void assign_row(const InstanceKernel& k, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row) {
  switch (k.num_slots) {
    case 1:
      assign_row_slots<V, 1>(k, row, columns, count, out_row);
      break;
    case 2:
      assign_row_slots<V, 2>(k, row, columns, count, out_row);
      break;
    case 3:
      assign_row_slots<V, 3>(k, row, columns, count, out_row);
      break;
    case 4:
      assign_row_slots<V, 4>(k, row, columns, count, out_row);
      break;
    default:
      assign_row_slots<V, 5>(k, row, columns, count, out_row);
      break;
  }
}

// ---- the parts argmax of the scale-back ------------------------------------------------------
//
// Exact as bodypix_pixel::blend + argmax_tfjs: each lane does the float64 lerps in the reference's
// order (no fusing), rounded to float32 as the reference (cvtpd_ps rounds to nearest). The tfjs
// argmax moves only on a strictly greater value, so it returns 0 when value 0 is NaN (nothing is
// greater than NaN), and otherwise the first index whose value equals the maximum M of the
// non-NaN values: every earlier value is < M (none equals it), so the scan reaches it and never
// moves past it. M is found with max_ps(v, acc) = v > acc ? v : acc, which keeps acc when v is
// NaN, from acc = value 0; which zero a {+0, -0} maximum is does not matter (+0 == -0).

#if defined(__AVX512F__)
/// The 24 part values of one pixel, as three float32 vectors of 8.
inline void part_values_avx512(const float* const* c, double fc, double fr, __m256 v[3]) {
  const __m512d wc = _mm512_set1_pd(fc);
  const __m512d wr = _mm512_set1_pd(fr);
  for (int h = 0; h < 3; ++h) {
    const __m512d tl = _mm512_cvtps_pd(_mm256_loadu_ps(c[0] + 8 * h));
    const __m512d tr = _mm512_cvtps_pd(_mm256_loadu_ps(c[1] + 8 * h));
    const __m512d bl = _mm512_cvtps_pd(_mm256_loadu_ps(c[2] + 8 * h));
    const __m512d br = _mm512_cvtps_pd(_mm256_loadu_ps(c[3] + 8 * h));
    const __m512d top = _mm512_add_pd(tl, _mm512_mul_pd(_mm512_sub_pd(tr, tl), wc));
    const __m512d bottom = _mm512_add_pd(bl, _mm512_mul_pd(_mm512_sub_pd(br, bl), wc));
    v[h] = _mm512_cvtpd_ps(_mm512_add_pd(top, _mm512_mul_pd(_mm512_sub_pd(bottom, top), wr)));
  }
}
#endif

#if defined(__AVX2__)
/// The same with 4 float64 lanes.
inline void part_values_avx2(const float* const* c, double fc, double fr, __m256 v[3]) {
  const __m256d wc = _mm256_set1_pd(fc);
  const __m256d wr = _mm256_set1_pd(fr);
  __m128 q[6];
  for (int h = 0; h < 6; ++h) {
    const __m256d tl = _mm256_cvtps_pd(_mm_loadu_ps(c[0] + 4 * h));
    const __m256d tr = _mm256_cvtps_pd(_mm_loadu_ps(c[1] + 4 * h));
    const __m256d bl = _mm256_cvtps_pd(_mm_loadu_ps(c[2] + 4 * h));
    const __m256d br = _mm256_cvtps_pd(_mm_loadu_ps(c[3] + 4 * h));
    const __m256d top = _mm256_add_pd(tl, _mm256_mul_pd(_mm256_sub_pd(tr, tl), wc));
    const __m256d bottom = _mm256_add_pd(bl, _mm256_mul_pd(_mm256_sub_pd(br, bl), wc));
    q[h] = _mm256_cvtpd_ps(_mm256_add_pd(top, _mm256_mul_pd(_mm256_sub_pd(bottom, top), wr)));
  }
  for (int h = 0; h < 3; ++h) v[h] = _mm256_set_m128(q[2 * h + 1], q[2 * h]);
}

/// argmax_tfjs of the 24 values v[0..2] (see above); AVX2 (also in the AVX-512 unit).
inline int32_t argmax24(const __m256 v[3]) {
  const float first = _mm_cvtss_f32(_mm256_castps256_ps128(v[0]));
  if (first != first) return 0;
  __m256 acc = _mm256_set1_ps(first);
  for (int h = 0; h < 3; ++h) acc = _mm256_max_ps(v[h], acc);  // NaN lanes keep acc
  // The horizontal maximum (no NaN left).
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  const __m256 best = _mm256_broadcastss_ps(m);
  uint32_t hits = 0;
  for (int h = 0; h < 3; ++h)
    hits |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v[h], best, _CMP_EQ_OQ))) << (8 * h);
  return __builtin_ctz(hits);  // hits != 0: the maximum is one of the values
}

/// The dominance candidate of four input cells' 24 part logits (see part_dominance in
/// bodypix_simd.hpp): -1 if any is NaN; else k*, the first part whose least logit over the
/// cells is the greatest, with *least that logit and *rival the greatest logit of any other part
/// over the cells (min_ps / max_ps are exact selects; a zero's sign does not matter to the caller).
inline int32_t dominance24(const float* const* cells, float* least, float* rival) {
  __m256 low[3], high[3];
  __m256 unordered = _mm256_setzero_ps();
  for (int h = 0; h < 3; ++h) {
    const __m256 w = _mm256_loadu_ps(cells[0] + 8 * h);
    const __m256 x = _mm256_loadu_ps(cells[1] + 8 * h);
    const __m256 y = _mm256_loadu_ps(cells[2] + 8 * h);
    const __m256 z = _mm256_loadu_ps(cells[3] + 8 * h);
    unordered =
        _mm256_or_ps(unordered, _mm256_or_ps(_mm256_cmp_ps(w, x, _CMP_UNORD_Q), _mm256_cmp_ps(y, z, _CMP_UNORD_Q)));
    low[h] = _mm256_min_ps(_mm256_min_ps(w, x), _mm256_min_ps(y, z));
    high[h] = _mm256_max_ps(_mm256_max_ps(w, x), _mm256_max_ps(y, z));
  }
  if (_mm256_movemask_ps(unordered) != 0) return -1;
  const int32_t best = argmax24(low);  // no NaN: the first index of the maximum
  alignas(32) float lows[24], highs[24];
  for (int h = 0; h < 3; ++h) {
    _mm256_store_ps(lows + 8 * h, low[h]);
    _mm256_store_ps(highs + 8 * h, high[h]);
  }
  *least = lows[best];
  highs[best] = -__builtin_inff();
  __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_load_ps(highs), _mm256_load_ps(highs + 8)), _mm256_load_ps(highs + 16));
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_shuffle_ps(q, q, 1));
  *rival = _mm_cvtss_f32(q);
  return best;
}
#endif

}  // namespace
}  // namespace person_segmentation::bodypix::cpu::simd
