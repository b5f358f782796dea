// Pre-processing of an image into the network's input: the original's resize (TensorFlow's
// legacy ResizeBilinear, align_corners=false, half_pixel_centers=false) to the geometry's
// resized size, zero padding to the model input, then the MobileNet normalisation
// `x / 127.5 - 1` (so padding becomes -1). Optionally the image is mirrored first.
// (REFERENCE.md section 3 step 2.) Bit-identical to the TensorFlow ops it replaces.
#pragma once

#include <cstdint>

#include "person_segmentation/geometry.hpp"

namespace person_segmentation {

/// Element type of an image's pixels.
enum class PixelType : int32_t { kUint8 = 0, kFloat32 = 1 };

/// A read-only view of an (height, width, 3) image in host memory with arbitrary element
/// strides (in elements, not bytes; negative or zero allowed). Element (y, x, c) is
/// data[y * stride_height + x * stride_width + c * stride_channels]. `extent` and
/// `data_offset` work as in FloatTensorView: when extent is not -1, every addressed element
/// must lie inside the buffer of `extent` elements that `data` points into at `data_offset`.
struct ImageView {
  const void* data = nullptr;
  PixelType type = PixelType::kUint8;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 3;
  int64_t stride_height = 0;
  int64_t stride_width = 0;
  int64_t stride_channels = 0;
  int64_t extent = -1;
  int64_t data_offset = 0;

  /// A C-contiguous (height, width, 3) image (extent unknown).
  static ImageView contiguous(const void* data, PixelType type, int64_t height, int64_t width) {
    ImageView v;
    v.data = data;
    v.type = type;
    v.height = height;
    v.width = width;
    v.stride_height = width * 3;
    v.stride_width = 3;
    v.stride_channels = 1;
    return v;
  }
};

struct PreprocessOptions {
  /// Mirror the image (reverse its columns) before resizing.
  bool flip_horizontal = false;
  /// Worker threads, >= 0; 0 picks one per hardware thread (fewer for small outputs).
  int32_t num_threads = 1;
};

/// Writes the model input, model_height * model_width * 3 float32 values (row-major, RGB
/// interleaved), to `out`. uint8 pixels are read as they are; float32 pixels are made finite
/// first (NaN counts as 0, values are clamped to [0, 255], so +/-inf become 255/0), exactly
/// as the TensorFlow path does. The image must be (geometry.image_height,
/// geometry.image_width, 3). Every argument is validated first: std::invalid_argument names
/// the offending one.
void resize_pad_normalize(const ImageView& image, const ResizePadGeometry& geometry, const PreprocessOptions& options,
                          float* out);

}  // namespace person_segmentation
