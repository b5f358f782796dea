// The model's fixed sizes and the limits of the public API, written once. The Python module
// exports them as MODEL_HEIGHT, MODEL_WIDTH, MAX_IMAGE_SIDE, NUM_PARTS and MAX_PART_CHANNELS.
#pragma once

#include <cstdint>

namespace person_segmentation {

/// Fixed model input of the original: 353 rows x 257 columns.
inline constexpr int32_t kModelHeight = 353;
inline constexpr int32_t kModelWidth = 257;

/// The largest image or model side taken (the JPEG limit is 65535), and the largest side of a
/// logit grid. It bounds every size, pad and index of the post-processing, so nothing
/// overflows and its float coordinates stay far from int32 range.
inline constexpr int32_t kMaxImageSide = 1 << 16;

/// The body parts the BodyPix 1.0 model segments (its part_heatmap_2 channels).
inline constexpr int32_t kNumParts = 24;

/// The most part channels the post-processing takes (the CUDA kernels take fewer, see
/// PostprocessOptions::compute_device).
inline constexpr int32_t kMaxPartChannels = 1024;

}  // namespace person_segmentation
