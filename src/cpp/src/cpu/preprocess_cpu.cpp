// Resize (TF legacy bilinear) + pad + normalise, one output row at a time. The column
// coordinates are computed once; each row reads its two source rows.
#include "cpu/preprocess_cpu.hpp"

#include <algorithm>
#include <vector>

#include "cpu/parallel.hpp"
#include "pixel/preprocess_pixel.hpp"

namespace person_segmentation::cpu {
namespace {

template <typename T>
void run(const ImageView& image, const ResizePadGeometry& g, bool flip, int32_t num_threads, float* out) {
  const T* data = static_cast<const T*>(image.data);
  const int32_t model_w = g.model_width;
  const int64_t row_floats = static_cast<int64_t>(model_w) * 3;
  const float scale_y = pixel::resize_scale(g.image_height, g.resized_height, false);
  const float scale_x = pixel::resize_scale(g.image_width, g.resized_width, false);

  // Element offsets of each output column's two source columns, and its weight.
  std::vector<int64_t> left(static_cast<size_t>(g.resized_width));
  std::vector<int64_t> right(static_cast<size_t>(g.resized_width));
  std::vector<float> x_lerp(static_cast<size_t>(g.resized_width));
  for (int32_t x = 0; x < g.resized_width; ++x) {
    const pixel::SourceCoord c = pixel::source_column(x, scale_x, g.image_width, flip);
    left[static_cast<size_t>(x)] = c.lower * image.stride_width;
    right[static_cast<size_t>(x)] = c.upper * image.stride_width;
    x_lerp[static_cast<size_t>(x)] = c.lerp;
  }
  const int64_t sc = image.stride_channels;
  const float pad = pixel::padding_input();

  parallel_for(g.model_height, num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      float* row = out + y * row_floats;
      const int64_t r = y - g.pad_top;
      if (r < 0 || r >= g.resized_height) {
        std::fill(row, row + row_floats, pad);
        continue;
      }
      const pixel::SourceCoord cy = pixel::source_coord(static_cast<int32_t>(r), scale_y, g.image_height);
      const T* top = data + cy.lower * image.stride_height;
      const T* bottom = data + cy.upper * image.stride_height;
      std::fill(row, row + static_cast<int64_t>(g.pad_left) * 3, pad);
      float* o = row + static_cast<int64_t>(g.pad_left) * 3;
      for (int32_t x = 0; x < g.resized_width; ++x, o += 3) {
        const int64_t l = left[static_cast<size_t>(x)];
        const int64_t rr = right[static_cast<size_t>(x)];
        const float t = x_lerp[static_cast<size_t>(x)];
        for (int64_t c = 0; c < 3; ++c) {
          const int64_t k = c * sc;
          const float v =
              pixel::lerp2d(pixel::pixel_value(top[l + k]), pixel::pixel_value(top[rr + k]),
                            pixel::pixel_value(bottom[l + k]), pixel::pixel_value(bottom[rr + k]), t, cy.lerp);
          o[c] = pixel::normalize_input(v);
        }
      }
      std::fill(o, row + row_floats, pad);
    }
  });
}

}  // namespace

void resize_pad_normalize(const ImageView& image, const ResizePadGeometry& geometry, bool flip_horizontal,
                          int32_t num_threads, float* out) {
  if (image.type == PixelType::kUint8)
    run<uint8_t>(image, geometry, flip_horizontal, num_threads, out);
  else
    run<float>(image, geometry, flip_horizontal, num_threads, out);
}

}  // namespace person_segmentation::cpu
