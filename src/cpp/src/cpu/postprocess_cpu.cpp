// CPU implementation of the fused post-processing.
//
// Stage 1 (align-corners resize of the sigmoid scores from the h x w logit grid to the model
// input) is only ever evaluated on the rows and columns inside the padding crop, one
// intermediate row (all channels) at a time; stage 2 (align-corners resize of the crop to the
// image size) reads two such rows per output row. Each thread keeps the last two intermediate
// rows, so upsampling (the usual case) computes every intermediate row about once.
#include "cpu/postprocess_cpu.hpp"

#include <vector>

#include "cpu/parallel.hpp"
#include "person_segmentation/postprocess_pixel.hpp"

namespace person_segmentation::cpu {
namespace {

using pixel::SourceCoord;

/// Everything that does not depend on the output row: the sigmoid scores on the logit grid
/// (channel 0 = segment, then the parts) and the four interpolation tables.
struct Plan {
  int32_t grid_height = 0;
  int32_t grid_width = 0;
  int32_t channels = 0;          // 1 (mask) or 1 + parts
  std::vector<float> scores;     // grid_height * grid_width * channels, C-contiguous
  std::vector<SourceCoord> crop_rows;    // stage 1, per crop row    (resized_height)
  std::vector<SourceCoord> crop_cols;    // stage 1, per crop column (resized_width)
  std::vector<SourceCoord> out_rows;     // stage 2, per output row  (image_height)
  std::vector<SourceCoord> out_cols;     // stage 2, per output column (image_width)
};

std::vector<SourceCoord> coords(int32_t count, int32_t offset, float scale, int32_t in_size) {
  std::vector<SourceCoord> table(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) table[static_cast<size_t>(i)] = pixel::source_coord(i + offset, scale, in_size);
  return table;
}

Plan make_plan(const FloatTensorView& segment, const FloatTensorView* parts,
               const ResizePadGeometry& g, int32_t num_threads) {
  Plan plan;
  plan.grid_height = static_cast<int32_t>(segment.height);
  plan.grid_width = static_cast<int32_t>(segment.width);
  const int32_t num_parts = parts ? static_cast<int32_t>(parts->channels) : 0;
  plan.channels = 1 + num_parts;
  const int64_t cells = static_cast<int64_t>(plan.grid_height) * plan.grid_width;
  plan.scores.resize(static_cast<size_t>(cells * plan.channels));
  float* scores = plan.scores.data();
  const int32_t channels = plan.channels;
  const int32_t grid_width = plan.grid_width;
  parallel_for(plan.grid_height, num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t x = 0; x < grid_width; ++x) {
        float* dst = scores + (y * grid_width + x) * channels;
        dst[0] = pixel::sigmoid(segment.data[y * segment.stride_height + x * segment.stride_width]);
        if (parts) {
          const float* src = parts->data + y * parts->stride_height + x * parts->stride_width;
          for (int32_t c = 0; c < num_parts; ++c) dst[1 + c] = pixel::sigmoid(src[c * parts->stride_channels]);
        }
      }
    }
  });
  const float scale1_y = pixel::resize_scale(plan.grid_height, g.model_height, true);
  const float scale1_x = pixel::resize_scale(plan.grid_width, g.model_width, true);
  plan.crop_rows = coords(g.resized_height, g.pad_top, scale1_y, plan.grid_height);
  plan.crop_cols = coords(g.resized_width, g.pad_left, scale1_x, plan.grid_width);
  plan.out_rows = coords(g.image_height, 0, pixel::resize_scale(g.resized_height, g.image_height, true), g.resized_height);
  plan.out_cols = coords(g.image_width, 0, pixel::resize_scale(g.resized_width, g.image_width, true), g.resized_width);
  return plan;
}

/// The last two stage-1 rows a thread computed (crop-space row index, all channels).
class IntermediateRows {
 public:
  explicit IntermediateRows(const Plan& plan)
      : plan_(plan), width_(static_cast<int64_t>(plan.crop_cols.size())) {
    for (auto& s : slots_) s.resize(static_cast<size_t>(width_ * plan.channels));
  }

  /// Pointers to crop rows `lower` and `upper` (equal pointers when lower == upper).
  void get(int32_t lower, int32_t upper, const float** lower_row, const float** upper_row) {
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
    *lower_row = slots_[slot_lower].data();
    *upper_row = slots_[slot_upper].data();
  }

 private:
  int find(int32_t row) const { return index_[0] == row ? 0 : (index_[1] == row ? 1 : -1); }

  void compute(int32_t row, int slot) {
    const int32_t channels = plan_.channels;
    const SourceCoord r = plan_.crop_rows[static_cast<size_t>(row)];
    const float* top = plan_.scores.data() + static_cast<int64_t>(r.lower) * plan_.grid_width * channels;
    const float* bottom = plan_.scores.data() + static_cast<int64_t>(r.upper) * plan_.grid_width * channels;
    float* dst = slots_[slot].data();
    for (int64_t j = 0; j < width_; ++j) {
      const SourceCoord c = plan_.crop_cols[static_cast<size_t>(j)];
      const float* tl = top + c.lower * channels;
      const float* tr = top + c.upper * channels;
      const float* bl = bottom + c.lower * channels;
      const float* br = bottom + c.upper * channels;
      float* d = dst + j * channels;
      for (int32_t k = 0; k < channels; ++k) d[k] = pixel::lerp2d(tl[k], tr[k], bl[k], br[k], c.lerp, r.lerp);
    }
    index_[slot] = row;
  }

  const Plan& plan_;
  int64_t width_;
  std::vector<float> slots_[2];
  int32_t index_[2] = {-1, -1};
};

/// Runs `row_body(y, lower_row, upper_row, y_lerp)` for every output row, in parallel.
template <typename RowBody>
void for_each_output_row(const Plan& plan, int32_t num_threads, const RowBody& row_body) {
  const int64_t rows = static_cast<int64_t>(plan.out_rows.size());
  parallel_for(rows, num_threads, [&](int64_t begin, int64_t end) {
    IntermediateRows cache(plan);
    for (int64_t y = begin; y < end; ++y) {
      const SourceCoord r = plan.out_rows[static_cast<size_t>(y)];
      const float* lower_row = nullptr;
      const float* upper_row = nullptr;
      cache.get(r.lower, r.upper, &lower_row, &upper_row);
      row_body(y, lower_row, upper_row, r.lerp);
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
  for_each_output_row(plan, num_threads, [&](int64_t y, const float* a, const float* b, float y_lerp) {
    uint8_t* dst = out + y * width;
    for (int32_t x = 0; x < width; ++x) {
      const SourceCoord c = plan.out_cols[static_cast<size_t>(x)];
      const float score = pixel::lerp2d(a[c.lower], a[c.upper], b[c.lower], b[c.upper], c.lerp, y_lerp);
      dst[pixel::output_column(x, width, flip)] = pixel::is_person(score, threshold) ? 1 : 0;
    }
  });
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& g, const PostprocessOptions& options,
                       int32_t num_threads, int32_t* out) {
  const Plan plan = make_plan(segment_logits, &part_logits, g, num_threads);
  const int32_t width = g.image_width;
  const int32_t channels = plan.channels;
  const int32_t num_parts = channels - 1;
  const float threshold = options.segmentation_threshold;
  const bool flip = options.flip_horizontal;
  for_each_output_row(plan, num_threads, [&](int64_t y, const float* a, const float* b, float y_lerp) {
    std::vector<float> part_scores(static_cast<size_t>(num_parts));
    float* scores = part_scores.data();
    int32_t* dst = out + y * width;
    for (int32_t x = 0; x < width; ++x) {
      const SourceCoord c = plan.out_cols[static_cast<size_t>(x)];
      const float* tl = a + c.lower * channels;
      const float* tr = a + c.upper * channels;
      const float* bl = b + c.lower * channels;
      const float* br = b + c.upper * channels;
      const bool person = pixel::is_person(pixel::lerp2d(tl[0], tr[0], bl[0], br[0], c.lerp, y_lerp), threshold);
      int32_t part = 0;
      if (person) {  // parts are only needed (and only computed) where the mask is on
        for (int32_t k = 0; k < num_parts; ++k)
          scores[k] = pixel::lerp2d(tl[1 + k], tr[1 + k], bl[1 + k], br[1 + k], c.lerp, y_lerp);
        part = pixel::argmax_first(scores, num_parts);
      }
      dst[pixel::output_column(x, width, flip)] = pixel::masked_part(part, person);
    }
  });
}

}  // namespace person_segmentation::cpu
