// CPU implementation of the fused post-processing.
//
// Two align-corners resizes run back to back: stage 1 from the h x w logit grid to the model
// input (only its rows and columns inside the padding crop are ever evaluated) and stage 2
// from the crop to the image. TensorFlow's bilinear step is a horizontal lerp on the two
// source rows followed by a vertical lerp between them, so the work splits into
//   * "resampled rows": for one crop row, stage 1 (both axes) then the horizontal half of
//     stage 2, giving image_width values per channel; each thread caches the last two, and
//     when upsampling (the usual case) each is computed about once and reused by several
//     output rows;
//   * per output row: the vertical lerp between two resampled rows, the threshold, and (only
//     where the mask is on) the part argmax, written flipped if asked.
// The arithmetic is that of pixel/postprocess_pixel.hpp, in TensorFlow's order, so the results are
// bit-identical to a step-by-step TensorFlow run with the same sigmoid. For the 24 BodyPix
// parts the per-pixel lerp + argmax also has an SSE2 version of exactly the same operations.
#include "cpu/postprocess_cpu.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <type_traits>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PS_HAVE_SSE2 1
#endif

// Runtime dispatch to AVX2 (GCC/Clang on x86-64): only functions marked PS_TARGET_AVX2 use
// it, and they run only after __builtin_cpu_supports("avx2"); everything else stays SSE2.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PS_HAVE_AVX2_DISPATCH 1
#define PS_TARGET_AVX2 __attribute__((target("avx2")))
#define PS_ALWAYS_INLINE __attribute__((always_inline))
#else
#define PS_HAVE_AVX2_DISPATCH 0
#define PS_ALWAYS_INLINE
#endif

#include "cpu/parallel.hpp"
#include "person_segmentation/constants.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace person_segmentation::cpu {
namespace {

using pixel::SourceCoord;

// The model's part count, which the compile-time (and SSE2/AVX2) fast paths are for.
constexpr int32_t kBodyPixParts = kNumParts;
template <int32_t N>
using Const = std::integral_constant<int32_t, N>;

/// Everything that does not depend on the output row. Scores are stored per grid cell as
/// [part 0, ..., part P-1, segment].
struct Plan {
  int32_t grid_height = 0;
  int32_t grid_width = 0;
  int32_t channels = 0;  // P + 1
  int32_t image_width = 0;
  std::vector<float> scores;           // grid_height x grid_width x channels, C-contiguous
  std::vector<SourceCoord> crop_rows;  // stage 1 source rows, per crop row
  std::vector<SourceCoord> crop_cols;  // stage 1 source columns, per crop column
  std::vector<SourceCoord> out_rows;   // stage 2 source (crop) rows, per output row
  std::vector<SourceCoord> out_cols;   // stage 2 source (crop) columns, per output column
};

std::vector<SourceCoord> coords(int32_t count, int32_t offset, float scale, int32_t in_size) {
  std::vector<SourceCoord> table(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) table[static_cast<size_t>(i)] = pixel::source_coord(i + offset, scale, in_size);
  return table;
}

Plan make_plan(const FloatTensorView& segment, const FloatTensorView* parts, const ResizePadGeometry& g,
               int32_t num_threads) {
  Plan plan;
  plan.grid_height = static_cast<int32_t>(segment.height);
  plan.grid_width = static_cast<int32_t>(segment.width);
  const int32_t num_parts = parts ? static_cast<int32_t>(parts->channels) : 0;
  plan.channels = 1 + num_parts;
  plan.image_width = g.image_width;
  const int64_t channels = plan.channels;
  const int64_t grid_width = plan.grid_width;
  plan.scores.resize(static_cast<size_t>(plan.grid_height * grid_width * channels));
  float* scores = plan.scores.data();
  // A thread only pays for itself on large grids (one double-precision exp per value).
  const int32_t sigmoid_threads = plan.scores.size() >= (1u << 16) ? num_threads : 1;
  parallel_for(plan.grid_height, sigmoid_threads, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t x = 0; x < grid_width; ++x) {
        float* dst = scores + (y * grid_width + x) * channels;
        dst[num_parts] = pixel::score_of_logit(segment.data[y * segment.stride_height + x * segment.stride_width]);
        if (parts == nullptr) continue;
        const float* src = parts->data + y * parts->stride_height + x * parts->stride_width;
        for (int32_t c = 0; c < num_parts; ++c) dst[c] = pixel::score_of_logit(src[c * parts->stride_channels]);
      }
    }
  });
  const float scale1_y = pixel::resize_scale(plan.grid_height, g.model_height, true);
  const float scale1_x = pixel::resize_scale(plan.grid_width, g.model_width, true);
  plan.crop_rows = coords(g.resized_height, g.pad_top, scale1_y, plan.grid_height);
  plan.crop_cols = coords(g.resized_width, g.pad_left, scale1_x, plan.grid_width);
  plan.out_rows =
      coords(g.image_height, 0, pixel::resize_scale(g.resized_height, g.image_height, true), g.resized_height);
  plan.out_cols = coords(g.image_width, 0, pixel::resize_scale(g.resized_width, g.image_width, true), g.resized_width);
  return plan;
}

/// Storage for values that are always written before they are read (no zero-fill).
template <typename T>
class Buffer {
 public:
  void resize(size_t size) {
    if (size != size_) data_.reset(size ? new T[size] : nullptr), size_ = size;
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](size_t i) { return data_[i]; }

 private:
  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
};

/// A thread's cache of the last two resampled rows (image_width pixels each): the segment
/// scores as one contiguous row, resampled eagerly (every pixel needs them), and the part
/// scores (`parts` floats a pixel), resampled lazily, both stages, the first time a person
/// pixel asks for them, so the part work is proportional to the person area.
/// `Channels` (= parts + 1) is a std::integral_constant for BodyPix's 24 parts, or int32_t.
template <typename Channels>
class ResampledRows {
 public:
  ResampledRows(const Plan& plan, Channels channels) : plan_(plan), channels_(channels) {
    const size_t crop_width = plan.crop_cols.size();
    const size_t width = static_cast<size_t>(plan.image_width);
    for (int s = 0; s < 2; ++s) {
      crop_[s].resize(crop_width * static_cast<size_t>(this->channels()));
      segment_[s].resize(width);
      if (this->channels() > 1) {
        parts_[s].resize(width * static_cast<size_t>(parts_count()));
        crop_ready_[s].resize(crop_width);
        ready_[s].resize(width);
      }
    }
  }

  /// Cache slots of resampled crop rows `lower` and `upper` (equal when the rows are).
  void get(int32_t lower, int32_t upper, int* lower_slot, int* upper_slot) {
    int slot_lower = find(lower);
    if (slot_lower < 0) {
      slot_lower = find(upper) == 0 ? 1 : 0;
      compute(lower, slot_lower);
    }
    int slot_upper = find(upper);
    if (slot_upper < 0) {
      slot_upper = 1 - slot_lower;
      compute(upper, slot_upper);
    }
    *lower_slot = slot_lower;
    *upper_slot = slot_upper;
  }

  /// The segment scores of a slot's row (image_width floats).
  const float* segment(int slot) const { return segment_[slot].data(); }

  /// The part scores of pixel `x` of a slot's row, resampled on first use.
  const float* parts(int slot, int64_t x) {
    const int64_t count = static_cast<int32_t>(parts_count());
    float* d = parts_[slot].data() + x * count;
    if (!ready_[slot][static_cast<size_t>(x)]) {
      const SourceCoord c = plan_.out_cols[static_cast<size_t>(x)];
      const float* left = crop_parts(slot, c.lower);
      const float* right = crop_parts(slot, c.upper);
      for (int64_t k = 0; k < count; ++k) d[k] = pixel::lerp(left[k], right[k], c.lerp);
      ready_[slot][static_cast<size_t>(x)] = 1;
    }
    return d;
  }

 private:
  int64_t channels() const { return static_cast<int32_t>(channels_); }
  /// The number of parts: a compile-time constant when `Channels` is one.
  auto parts_count() const {
    if constexpr (std::is_integral_v<Channels>) {
      return static_cast<int32_t>(channels_) - 1;
    } else {
      return std::integral_constant<int32_t, Channels::value - 1>{};
    }
  }
  int find(int32_t row) const { return index_[0] == row ? 0 : (index_[1] == row ? 1 : -1); }

  /// Stage 1 for crop column `j` of a slot's crop row: `count` channels from `first` on.
  template <typename Count>
  void stage1(int slot, int64_t j, int64_t first, Count count) {
    const int64_t n = static_cast<int64_t>(count);
    const SourceCoord r = plan_.crop_rows[static_cast<size_t>(index_[slot])];
    const SourceCoord c = plan_.crop_cols[static_cast<size_t>(j)];
    const int64_t row_size = static_cast<int64_t>(plan_.grid_width) * channels();
    const float* top = plan_.scores.data() + r.lower * row_size + first;
    const float* bottom = plan_.scores.data() + r.upper * row_size + first;
    const float* tl = top + c.lower * channels();
    const float* tr = top + c.upper * channels();
    const float* bl = bottom + c.lower * channels();
    const float* br = bottom + c.upper * channels();
    float* d = crop_[slot].data() + j * channels() + first;
    for (int64_t k = 0; k < n; ++k) d[k] = pixel::lerp2d(tl[k], tr[k], bl[k], br[k], c.lerp, r.lerp);
  }

  /// Crop column `j` of a slot's crop row with its part values computed.
  const float* crop_parts(int slot, int32_t j) {
    if (!crop_ready_[slot][static_cast<size_t>(j)]) {
      stage1(slot, j, 0, parts_count());
      crop_ready_[slot][static_cast<size_t>(j)] = 1;
    }
    return crop_[slot].data() + static_cast<int64_t>(j) * channels();
  }

  /// Makes `slot` hold crop row `row`: its segment scores resampled for every pixel, its
  /// parts marked as not computed yet.
  void compute(int32_t row, int slot) {
    index_[slot] = row;
    const int64_t segment = channels() - 1;  // the segment is the last channel of a grid cell
    const int64_t crop_width = static_cast<int64_t>(plan_.crop_cols.size());
    for (int64_t j = 0; j < crop_width; ++j) stage1(slot, j, segment, std::integral_constant<int32_t, 1>{});
    const float* crop = crop_[slot].data() + segment;
    float* dst = segment_[slot].data();
    const int64_t width = plan_.image_width;
    for (int64_t x = 0; x < width; ++x) {
      const SourceCoord c = plan_.out_cols[static_cast<size_t>(x)];
      dst[x] = pixel::lerp(crop[c.lower * channels()], crop[c.upper * channels()], c.lerp);
    }
    if (segment > 0) {
      std::fill_n(crop_ready_[slot].data(), plan_.crop_cols.size(), uint8_t{0});
      std::fill_n(ready_[slot].data(), static_cast<size_t>(width), uint8_t{0});
    }
  }

  const Plan& plan_;
  Channels channels_;
  Buffer<float> crop_[2];
  Buffer<float> segment_[2];
  Buffer<float> parts_[2];
  Buffer<uint8_t> crop_ready_[2];
  Buffer<uint8_t> ready_[2];
  int32_t index_[2] = {-1, -1};
};

/// Runs `row_body(y, rows, top_slot, bottom_slot, y_lerp)` for every output row, rows split
/// over threads, each thread with its own cache of resampled rows.
template <typename Channels, typename RowBody>
void for_each_output_row(const Plan& plan, int32_t num_threads, Channels channels, const RowBody& row_body) {
  // Chunks of rows are handed out dynamically: rows with people cost more than rows without.
  constexpr int64_t kRowsPerChunk = 16;
  const int64_t rows = static_cast<int64_t>(plan.out_rows.size());
  parallel_chunks(rows, kRowsPerChunk, num_threads, [&](const auto& next) {
    ResampledRows<Channels> cache(plan, channels);
    int64_t begin = 0;
    int64_t end = 0;
    while (next(&begin, &end)) {
      for (int64_t y = begin; y < end; ++y) {
        const SourceCoord r = plan.out_rows[static_cast<size_t>(y)];
        int top = 0;
        int bottom = 0;
        cache.get(r.lower, r.upper, &top, &bottom);
        row_body(y, cache, top, bottom, r.lerp);
      }
    }
  });
}

/// Vertical lerp of `count` part scores and their first-index argmax.
template <typename Count>
inline int32_t best_part(const float* top, const float* bottom, float y_lerp, Count count, float* scratch) {
  const int32_t n = static_cast<int32_t>(count);
  for (int32_t k = 0; k < n; ++k) scratch[k] = pixel::lerp(top[k], bottom[k], y_lerp);
  return pixel::argmax_first(scratch, count);
}

#if PS_HAVE_SSE2
/// The same for the 24 BodyPix parts with SSE2: the same lerps (sub, mul, add in that order,
/// so bit-identical), a max over the six vectors, and the lowest index equal to it.
inline int32_t best_part(const float* top, const float* bottom, float y_lerp, Const<kBodyPixParts>, float*) {
  const __m128 t = _mm_set1_ps(y_lerp);
  __m128 v[6];
  for (int i = 0; i < 6; ++i) {
    const __m128 a = _mm_loadu_ps(top + 4 * i);
    const __m128 b = _mm_loadu_ps(bottom + 4 * i);
    v[i] = _mm_add_ps(a, _mm_mul_ps(_mm_sub_ps(b, a), t));
  }
  __m128 m = _mm_max_ps(_mm_max_ps(_mm_max_ps(v[0], v[1]), _mm_max_ps(v[2], v[3])), _mm_max_ps(v[4], v[5]));
  m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
  uint32_t hits = 0;
  for (int i = 0; i < 6; ++i) hits |= static_cast<uint32_t>(_mm_movemask_ps(_mm_cmpeq_ps(v[i], m))) << (4 * i);
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctz(hits);  // hits != 0: the maximum is one of the scores
#else
  int32_t i = 0;
  while (!(hits & 1u)) hits >>= 1, ++i;
  return i;
#endif
}
#endif

#if PS_HAVE_AVX2_DISPATCH
/// The same for the 24 BodyPix parts with AVX2 (used only where the CPU has it): three
/// vectors of eight, otherwise exactly the SSE2 steps.
struct BestPartAvx2 {
  PS_TARGET_AVX2 inline int32_t operator()(const float* top, const float* bottom, float y_lerp) const {
    const __m256 t = _mm256_set1_ps(y_lerp);
    __m256 v[3];
    for (int i = 0; i < 3; ++i) {
      const __m256 a = _mm256_loadu_ps(top + 8 * i);
      const __m256 b = _mm256_loadu_ps(bottom + 8 * i);
      v[i] = _mm256_add_ps(a, _mm256_mul_ps(_mm256_sub_ps(b, a), t));
    }
    __m256 m = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), v[2]);
    m = _mm256_max_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
    m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    uint32_t hits = 0;
    for (int i = 0; i < 3; ++i)
      hits |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v[i], m, _CMP_EQ_OQ))) << (8 * i);
    return __builtin_ctz(hits);  // hits != 0: the maximum is one of the scores
  }
};

/// Whether the AVX2 kernels run: the CPU has AVX2 and PERSON_SEGMENTATION_DISABLE_AVX2 is not
/// set to a non-empty value other than "0" (the switch lets tests run the SSE2 path too).
bool use_avx2() {
  static const bool enabled = [] {
    const char* off = std::getenv("PERSON_SEGMENTATION_DISABLE_AVX2");
    if (off != nullptr && off[0] != '\0' && !(off[0] == '0' && off[1] == '\0')) return false;
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return enabled;
}
#endif

/// One output row of the part map: the segment score, and where it is a person, the parts'
/// argmax (`best` computes it), written flipped if asked; with `probability` (not null) the
/// person probability of the row too.
template <typename Rows, typename Best>
PS_ALWAYS_INLINE inline void part_row(Rows& rows, int top, int bottom, float y_lerp, float threshold, bool flip,
                                      int32_t width, int32_t* dst, float* probability, const Best& best) {
  const float* top_segment = rows.segment(top);
  const float* bottom_segment = rows.segment(bottom);
  for (int32_t x = 0; x < width; ++x) {
    const float score = pixel::lerp(top_segment[x], bottom_segment[x], y_lerp);
    const bool person = pixel::is_person(score, threshold);
    // Parts are only needed (and only computed) where the mask is on.
    const int32_t part = person ? best(rows.parts(top, x), rows.parts(bottom, x), y_lerp) : 0;
    const int32_t column = pixel::output_column(x, width, flip);
    dst[column] = pixel::masked_part(part, person);
    if (probability != nullptr) probability[column] = pixel::probability_of_score(score);
  }
}

#if PS_HAVE_AVX2_DISPATCH
template <typename Rows>
PS_TARGET_AVX2 void part_row_avx2(Rows& rows, int top, int bottom, float y_lerp, float threshold, bool flip,
                                  int32_t width, int32_t* dst, float* probability) {
  part_row(rows, top, bottom, y_lerp, threshold, flip, width, dst, probability, BestPartAvx2{});
}
#endif

/// The part kernel; `Channels` = parts + 1 (the segment is the last channel).
template <typename Channels, typename NumParts>
void part_rows(const Plan& plan, const ResizePadGeometry& g, const PostprocessOptions& options, int32_t num_threads,
               Channels channels, NumParts num_parts, int32_t* out, float* probability) {
  const int32_t width = g.image_width;
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
#if PS_HAVE_AVX2_DISPATCH
  const bool avx2 = std::is_same_v<NumParts, Const<kBodyPixParts>> && use_avx2();
#endif
  for_each_output_row(plan, num_threads, channels, [&](int64_t y, auto& rows, int top, int bottom, float y_lerp) {
    int32_t* dst = out + y * width;
    float* row_probability = probability == nullptr ? nullptr : probability + y * width;
#if PS_HAVE_AVX2_DISPATCH
    if (avx2) {
      part_row_avx2(rows, top, bottom, y_lerp, threshold, flip, width, dst, row_probability);
      return;
    }
#endif
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(static_cast<int32_t>(num_parts)));
    part_row(rows, top, bottom, y_lerp, threshold, flip, width, dst, row_probability,
             [&](const float* t, const float* b, float l) { return best_part(t, b, l, num_parts, scratch.data()); });
  });
}

}  // namespace

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& g, const PostprocessOptions& options,
                 int32_t num_threads, uint8_t* out, float* probability) {
  const Plan plan = make_plan(segment_logits, nullptr, g, num_threads);
  const int32_t width = g.image_width;
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  for_each_output_row(
      plan, num_threads, Const<1>{}, [&](int64_t y, auto& rows, int top_slot, int bottom_slot, float y_lerp) {
        const float* top = rows.segment(top_slot);
        const float* bottom = rows.segment(bottom_slot);
        if (out != nullptr) {
          uint8_t* dst = out + y * width;
          if (flip) {
            for (int32_t x = 0; x < width; ++x)
              dst[width - 1 - x] = pixel::is_person(pixel::lerp(top[x], bottom[x], y_lerp), threshold) ? 1 : 0;
          } else {
            for (int32_t x = 0; x < width; ++x)
              dst[x] = pixel::is_person(pixel::lerp(top[x], bottom[x], y_lerp), threshold) ? 1 : 0;
          }
        }
        if (probability != nullptr) {
          // The same lerp as the mask's (bit for bit), so mask == (probability > threshold).
          float* dst = probability + y * width;
          for (int32_t x = 0; x < width; ++x)
            dst[pixel::output_column(x, width, flip)] =
                pixel::probability_of_score(pixel::lerp(top[x], bottom[x], y_lerp));
        }
      });
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& g, const PostprocessOptions& options, int32_t num_threads, int32_t* out,
                       float* probability) {
  const Plan plan = make_plan(segment_logits, &part_logits, g, num_threads);
  const int32_t num_parts = plan.channels - 1;
  if (num_parts == kBodyPixParts) {
    part_rows(plan, g, options, num_threads, Const<kBodyPixParts + 1>{}, Const<kBodyPixParts>{}, out, probability);
  } else {
    part_rows(plan, g, options, num_threads, plan.channels, num_parts, out, probability);
  }
}

}  // namespace person_segmentation::cpu
