// BodyPix 2.2.1 (MobileNetV1) post-processing for C++ hosts: the network input of an image,
// the scale-back of the segment and part logits to the image (mask, part map, person score),
// the multi-pose decoder and the CPU instance decoder (one person index per pixel), exactly as
// spec/BODYPIX2.md sections 4-12 describe them (float64 where the reference computes in JS
// numbers, float32 where it stores tensors).
//
// Every function takes the network's raw outputs as one "heads" tensor (outH, outW, 174), the
// eight heads concatenated in the channel order below (part_offsets left out), validates every
// argument first (std::invalid_argument naming it) and never reads outside its inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/preprocess.hpp"

namespace person_segmentation::bodypix {

// ---- the heads layout (channels of the (outH, outW, 174) heads tensor) ---------------------
inline constexpr int32_t kNumKeypoints = 17;
inline constexpr int32_t kNumEdges = 16;
inline constexpr int32_t kNumParts = 24;
inline constexpr int32_t kSegmentChannel = 0;                                                // 1 logit
inline constexpr int32_t kPartChannel = 1;                                                   // 24 logits
inline constexpr int32_t kHeatmapChannel = kPartChannel + kNumParts;                         // 25: 17 logits
inline constexpr int32_t kShortOffsetChannel = kHeatmapChannel + kNumKeypoints;              // 42: 17 y, 17 x
inline constexpr int32_t kDisplacementFwdChannel = kShortOffsetChannel + 2 * kNumKeypoints;  // 76: 16 y, 16 x
inline constexpr int32_t kDisplacementBwdChannel = kDisplacementFwdChannel + 2 * kNumEdges;  // 108
inline constexpr int32_t kLongOffsetChannel = kDisplacementBwdChannel + 2 * kNumEdges;       // 140: 17 y, 17 x
inline constexpr int32_t kHeadsChannels = kLongOffsetChannel + 2 * kNumKeypoints;            // 174
/// Keypoints the CPU instance decoder matches on (nose, eyes, ears) and its fixed threshold.
inline constexpr int32_t kInstanceKeypoints = 5;
inline constexpr double kInstanceKeypointScore = 0.3;
/// The most refinement steps of the instance decoder (BodyPix 2's validation).
inline constexpr int32_t kMaxRefineSteps = 20;

/// Image and network-input sizes and the padding (spec section 5): the image of
/// image_height x image_width is zero-padded by (top, bottom, left, right) and resized to
/// input_height x input_width.
struct Geometry {
  int32_t image_height = 0;
  int32_t image_width = 0;
  int32_t input_height = 0;
  int32_t input_width = 0;
  int32_t pad_top = 0;
  int32_t pad_bottom = 0;
  int32_t pad_left = 0;
  int32_t pad_right = 0;
};

/// Throws std::invalid_argument unless every size is in [1, kMaxImageSide] and every pad in
/// [0, kMaxImageSide].
void validate_geometry(const Geometry& geometry);

/// The network input (spec sections 2 and 5): the image zero-padded, resized with tfjs'
/// legacy resizeBilinear (float64 math, float32 result) to input_height x input_width and
/// normalised f32(f32(v / 127.5) - 1). float32 pixels: NaN -> 0, clamped to [0, 255]. Writes
/// input_height * input_width * 3 floats to `out`. `num_threads` 0: one per hardware thread.
void preprocess(const ImageView& image, const Geometry& geometry, int32_t num_threads, float* out);

struct ScaleBackOptions {
  /// Person where the score is strictly above f32(threshold); in [0, 1].
  double threshold = 0.7;
  int32_t num_threads = 0;
  /// For heads on a CUDA device (FloatTensorView::device kCuda): the stream to run on and
  /// whether the producer's writes are already ordered before it (as PostprocessOptions).
  void* cuda_stream = nullptr;
  bool heads_ready_on_stream = false;
};

/// Spec sections 6-8, fused per output pixel (the segment and, where asked, the 24 part
/// scores computed from the logits on the fly; at most two rows of input-resolution scores
/// per thread are kept): `mask` (required) gets image_height * image_width bytes 0/1,
/// `parts` (optional) the part ids 0..23 inside the mask and -1 outside, `probability`
/// (optional) the person score P. Heads on a CUDA device run the CUDA kernels (results
/// copied to these host buffers).
void scale_back(const FloatTensorView& heads, const Geometry& geometry, const ScaleBackOptions& options, uint8_t* mask,
                int32_t* parts, float* probability);

struct PoseOptions {
  int32_t output_stride = 16;
  /// The most poses decoded, >= 1.
  int32_t max_detections = 10;
  /// Root candidates need a heatmap score >= this; in [0, 1].
  double score_threshold = 0.4;
  /// NMS radius in network-input pixels, finite and > 0.
  double nms_radius = 20.0;
};

/// Decoded poses: `keypoints` holds n * 17 * 3 values [y, x, score] in image pixels,
/// `scores` the n pose scores, in decoding order.
struct Poses {
  std::vector<double> keypoints;
  std::vector<double> scores;
};

/// Spec sections 9 and 10. The heads' grid must be ((input_height - 1) / output_stride + 1,
/// (input_width - 1) / output_stride + 1), exactly. The decoder runs on the host: heads on a
/// CUDA device are copied there first.
Poses decode_poses(const FloatTensorView& heads, const Geometry& geometry, const PoseOptions& options);

/// A read-only (height, width) uint8 view with element strides.
struct MaskView {
  const uint8_t* data = nullptr;
  int64_t height = 0;
  int64_t width = 0;
  int64_t stride_height = 0;
  int64_t stride_width = 0;
};

/// Spec section 11's CPU instance decoder: for every pixel whose mask value is exactly 1, the
/// index of the first nearest person of `keypoints` (num_people * 17 * 3 values [y, x, score]
/// in image pixels, float64), or -1; writes image_height * image_width int32 to `out`.
/// refine_steps in [1, kMaxRefineSteps]. Heads on a CUDA device run the CUDA kernel.
void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const Geometry& geometry, int32_t output_stride, int32_t refine_steps, int32_t num_threads,
                      int32_t* out, void* cuda_stream = nullptr, bool heads_ready_on_stream = false);

}  // namespace person_segmentation::bodypix
