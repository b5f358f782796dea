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
// The arithmetic is that of postprocess_pixel.hpp, in TensorFlow's order, so the results are
// bit-identical to a step-by-step TensorFlow run with the same sigmoid. For the 24 BodyPix
// parts the per-pixel lerp + argmax also has an SSE2 version of exactly the same operations.
#include "cpu/postprocess_cpu.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PS_HAVE_SSE2 1
#endif

#include "cpu/parallel.hpp"
#include "person_segmentation/postprocess_pixel.hpp"

namespace person_segmentation::cpu {
namespace {

using pixel::SourceCoord;

constexpr int32_t kBodyPixParts = 24;
template <int32_t N>
using Const = std::integral_constant<int32_t, N>;

/// Everything that does not depend on the output row. Scores are stored per grid cell as
/// [part 0, ..., part P-1, segment], so the parts start at an aligned offset.
struct Plan {
  int32_t grid_height = 0;
  int32_t grid_width = 0;
  int32_t channels = 0;                // P + 1
  int32_t image_width = 0;
  std::vector<float> scores;           // grid_height x grid_width x channels, C-contiguous
  std::vector<SourceCoord> crop_rows;  // stage 1 source rows, per crop row
  std::vector<SourceCoord> crop_cols;  // stage 1 source columns, per crop column
  std::vector<SourceCoord> out_rows;   // stage 2 source (crop) rows, per output row
  std::vector<SourceCoord> out_cols;   // stage 2 source (crop) columns, per output column
};

std::vector<SourceCoord> coords(int32_t count, int32_t offset, float scale, int32_t in_size) {
  std::vector<SourceCoord> table(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i)
    table[static_cast<size_t>(i)] = pixel::source_coord(i + offset, scale, in_size);
  return table;
}

Plan make_plan(const FloatTensorView& segment, const FloatTensorView* parts,
               const ResizePadGeometry& g, int32_t num_threads) {
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
  plan.out_rows = coords(g.image_height, 0, pixel::resize_scale(g.resized_height, g.image_height, true),
                         g.resized_height);
  plan.out_cols = coords(g.image_width, 0, pixel::resize_scale(g.resized_width, g.image_width, true),
                         g.resized_width);
  return plan;
}

/// A thread's cache of the last two resampled rows: image_width pixels, `Stride` floats
/// apart, holding `Channels` values: the parts, then the segment score (the last channel).
/// The segment channel is resampled eagerly (every pixel needs it). The parts are resampled
/// lazily, both stages, the first time a person pixel asks for them, so the part work is
/// proportional to the person area and background costs nothing.
/// `Channels`/`Stride` are std::integral_constant for the fixed layouts, or int32_t.
template <typename Channels, typename Stride>
class ResampledRows {
 public:
  ResampledRows(const Plan& plan, Channels channels, Stride stride)
      : plan_(plan), channels_(channels), stride_(stride) {
    const size_t crop_width = plan.crop_cols.size();
    const size_t width = static_cast<size_t>(plan.image_width);
    for (int s = 0; s < 2; ++s) {
      crop_[s].resize(crop_width * static_cast<size_t>(static_cast<int32_t>(channels)));
      rows_[s].resize(width * static_cast<size_t>(static_cast<int32_t>(stride)));
      if (static_cast<int32_t>(channels) > 1) {
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

  /// Pixel `x` of a slot's row; its segment value (the last channel) is always there.
  const float* pixel(int slot, int64_t x) const { return rows_[slot].data() + x * static_cast<int32_t>(stride_); }

  /// Pixel `x` of a slot's row with its part values resampled.
  const float* pixel_with_parts(int slot, int64_t x) {
    float* d = rows_[slot].data() + x * static_cast<int32_t>(stride_);
    if (!ready_[slot][static_cast<size_t>(x)]) {
      const SourceCoord c = plan_.out_cols[static_cast<size_t>(x)];
      const float* left = crop_parts(slot, c.lower);
      const float* right = crop_parts(slot, c.upper);
      const int64_t parts = static_cast<int32_t>(parts_count());
      for (int64_t k = 0; k < parts; ++k) d[k] = pixel::lerp(left[k], right[k], c.lerp);
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

  /// Makes `slot` hold crop row `row`: its segment channel resampled for every pixel, its
  /// parts marked as not computed yet.
  void compute(int32_t row, int slot) {
    index_[slot] = row;
    const int64_t segment = channels() - 1;
    const int64_t crop_width = static_cast<int64_t>(plan_.crop_cols.size());
    for (int64_t j = 0; j < crop_width; ++j) stage1(slot, j, segment, std::integral_constant<int32_t, 1>{});
    const float* crop = crop_[slot].data() + segment;
    float* dst = rows_[slot].data() + segment;
    const int64_t stride = static_cast<int32_t>(stride_);
    const int64_t width = plan_.image_width;
    for (int64_t x = 0; x < width; ++x) {
      const SourceCoord c = plan_.out_cols[static_cast<size_t>(x)];
      dst[x * stride] = pixel::lerp(crop[c.lower * channels()], crop[c.upper * channels()], c.lerp);
    }
    if (segment > 0) {
      std::fill(crop_ready_[slot].begin(), crop_ready_[slot].end(), uint8_t{0});
      std::fill(ready_[slot].begin(), ready_[slot].end(), uint8_t{0});
    }
  }

  const Plan& plan_;
  Channels channels_;
  Stride stride_;
  std::vector<float> crop_[2];
  std::vector<float> rows_[2];
  std::vector<uint8_t> crop_ready_[2];
  std::vector<uint8_t> ready_[2];
  int32_t index_[2] = {-1, -1};
};

/// Runs `row_body(y, rows, top_slot, bottom_slot, y_lerp)` for every output row, rows split
/// over threads, each thread with its own cache of resampled rows.
template <typename Channels, typename Stride, typename RowBody>
void for_each_output_row(const Plan& plan, int32_t num_threads, Channels channels, Stride stride,
                         const RowBody& row_body) {
  // Chunks of rows are handed out dynamically: rows with people cost more than rows without.
  constexpr int64_t kRowsPerChunk = 16;
  const int64_t rows = static_cast<int64_t>(plan.out_rows.size());
  parallel_chunks(rows, kRowsPerChunk, num_threads, [&](const auto& next) {
    ResampledRows<Channels, Stride> cache(plan, channels, stride);
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

/// The part kernel; `Channels` = parts + 1 (segment last), `Stride` >= Channels.
template <typename Channels, typename Stride, typename NumParts>
void part_rows(const Plan& plan, const ResizePadGeometry& g, const PostprocessOptions& options,
               int32_t num_threads, Channels channels, Stride stride, NumParts num_parts, int32_t* out) {
  const int32_t width = g.image_width;
  const int32_t segment = static_cast<int32_t>(num_parts);
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  for_each_output_row(plan, num_threads, channels, stride, [&](int64_t y, auto& rows, int top, int bottom, float y_lerp) {
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(segment));
    int32_t* dst = out + y * width;
    for (int32_t x = 0; x < width; ++x) {
      const float s = pixel::lerp(rows.pixel(top, x)[segment], rows.pixel(bottom, x)[segment], y_lerp);
      const bool person = pixel::is_person(s, threshold);
      // Parts are only needed (and only computed) where the mask is on.
      const int32_t part = person ? best_part(rows.pixel_with_parts(top, x), rows.pixel_with_parts(bottom, x), y_lerp,
                                              num_parts, scratch.data())
                                  : 0;
      dst[pixel::output_column(x, width, flip)] = pixel::masked_part(part, person);
    }
  });
}

}  // namespace

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& g,
                 const PostprocessOptions& options, int32_t num_threads, uint8_t* out) {
  const Plan plan = make_plan(segment_logits, nullptr, g, num_threads);
  const int32_t width = g.image_width;
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  for_each_output_row(plan, num_threads, Const<1>{}, Const<1>{}, [&](int64_t y, auto& rows, int top_slot, int bottom_slot, float y_lerp) {
    const float* top = rows.pixel(top_slot, 0);
    const float* bottom = rows.pixel(bottom_slot, 0);
    uint8_t* dst = out + y * width;
    if (flip) {
      for (int32_t x = 0; x < width; ++x)
        dst[width - 1 - x] = pixel::is_person(pixel::lerp(top[x], bottom[x], y_lerp), threshold) ? 1 : 0;
    } else {
      for (int32_t x = 0; x < width; ++x)
        dst[x] = pixel::is_person(pixel::lerp(top[x], bottom[x], y_lerp), threshold) ? 1 : 0;
    }
  });
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& g, const PostprocessOptions& options,
                       int32_t num_threads, int32_t* out) {
  const Plan plan = make_plan(segment_logits, &part_logits, g, num_threads);
  const int32_t num_parts = plan.channels - 1;
  if (num_parts == kBodyPixParts) {
    // 25 channels padded to 32 floats a pixel: the parts start 128-byte aligned.
    part_rows(plan, g, options, num_threads, Const<kBodyPixParts + 1>{}, Const<32>{}, Const<kBodyPixParts>{}, out);
  } else {
    part_rows(plan, g, options, num_threads, plan.channels, plan.channels, num_parts, out);
  }
}

}  // namespace person_segmentation::cpu
