// Validation and dispatch of the BodyPix 2 entry points (bodypix.hpp): every argument is checked
// here, once, before any loop or kernel runs (std::invalid_argument naming it), so the CPU loops
// (cpu/bodypix_cpu.cpp) and the CUDA kernels (cuda/bodypix_cuda.cu) can assume consistent sizes.
// Heads on a CUDA device run the per-pixel parts (scale-back, instance assignment) on that
// device; the pose decoder (a few hundred cells, sequential by nature) runs on the host, on a
// downloaded copy of device heads.
#include "person_segmentation/bodypix.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/bodypix_cpu.hpp"
#include "cuda/bodypix_cuda.hpp"
#include "cuda/postprocess_cuda.hpp"
#include "person_segmentation/constants.hpp"
#include "person_segmentation/runtime.hpp"
#include "view_check.hpp"

namespace person_segmentation::bodypix {
namespace {

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string shape_of(const FloatTensorView& t) {
  std::ostringstream s;
  s << "(" << t.height << ", " << t.width << ", " << t.channels << ")";
  return s.str();
}

void validate_heads(const FloatTensorView& t) {
  detail::check_placement(t, "heads");
  if (t.height < 1 || t.width < 1 || t.height > kMaxImageSide || t.width > kMaxImageSide ||
      t.channels != kHeadsChannels)
    fail("heads must have shape (outH, outW, " + std::to_string(kHeadsChannels) +
         ") with 1 <= outH, outW <= " + std::to_string(kMaxImageSide) + ", got " + shape_of(t));
  const int64_t sizes[3] = {t.height, t.width, t.channels};
  const int64_t strides[3] = {t.stride_height, t.stride_width, t.stride_channels};
  detail::check_addressable("heads", sizes, strides, static_cast<int64_t>(sizeof(float)), t.extent, t.data_offset);
}

void check_side(const char* name, int32_t v) {
  if (v < 1 || v > kMaxImageSide)
    fail(std::string(name) + " must be in [1, " + std::to_string(kMaxImageSide) + "], got " + std::to_string(v));
}

void check_pad(const char* name, int32_t v) {
  if (v < 0 || v > kMaxImageSide)
    fail(std::string("padding ") + name + " must be in [0, " + std::to_string(kMaxImageSide) + "], got " +
         std::to_string(v));
}

void check_stride_and_grid(const FloatTensorView& heads, const Geometry& g, int32_t output_stride) {
  if (output_stride != 8 && output_stride != 16 && output_stride != 32)
    fail("output_stride must be 8, 16 or 32, got " + std::to_string(output_stride));
  const int32_t sides[2] = {g.input_height, g.input_width};
  const int64_t grid[2] = {heads.height, heads.width};
  const char* names[2] = {"input_height", "input_width"};
  for (int a = 0; a < 2; ++a) {
    if ((sides[a] - 1) % output_stride != 0)
      fail(std::string(names[a]) + " must be k * output_stride + 1, got " + std::to_string(sides[a]) +
           " with output_stride " + std::to_string(output_stride));
    if (grid[a] != (sides[a] - 1) / output_stride + 1)
      fail("heads grid " + shape_of(heads) + " does not match " + names[a] + " " + std::to_string(sides[a]) +
           " and output_stride " + std::to_string(output_stride) + " (expected " +
           std::to_string((sides[a] - 1) / output_stride + 1) + " along that axis)");
  }
}

/// The CUDA ordinal the heads live on, after checking that the kernels can run there.
int32_t cuda_device_of(const FloatTensorView& heads) {
  if (!person_segmentation::cuda::compiled())
    throw std::runtime_error("heads are in CUDA memory but this build has no CUDA support (see build_info())");
  if (person_segmentation::cuda::device_count() == 0)
    throw std::runtime_error("heads are in CUDA memory but no CUDA device is usable: " +
                             cuda_runtime_info().unavailable_reason);
  const int32_t device = person_segmentation::cuda::device_of_pointer(heads.data, "heads.data");
  const std::string unusable = person_segmentation::cuda::device_unusable_reason(device);
  if (!unusable.empty())
    throw std::runtime_error("CUDA device " + std::to_string(device) + " cannot run the kernels: " + unusable);
  return device;
}

}  // namespace

void validate_geometry(const Geometry& g) {
  check_side("image_height", g.image_height);
  check_side("image_width", g.image_width);
  check_side("input_height", g.input_height);
  check_side("input_width", g.input_width);
  check_pad("top", g.pad_top);
  check_pad("bottom", g.pad_bottom);
  check_pad("left", g.pad_left);
  check_pad("right", g.pad_right);
}

void preprocess(const ImageView& image, const Geometry& g, int32_t num_threads, float* out) {
  if (image.type != PixelType::kUint8 && image.type != PixelType::kFloat32)
    fail("pixels type must be PixelType::kUint8 (0) or PixelType::kFloat32 (1), got " +
         std::to_string(static_cast<int32_t>(image.type)));
  if (image.data == nullptr) fail("pixels has no data (null pointer)");
  validate_geometry(g);
  detail::check_num_threads(num_threads);
  if (image.height != g.image_height || image.width != g.image_width || image.channels != 3) {
    std::ostringstream s;
    s << "pixels must have shape (" << g.image_height << ", " << g.image_width << ", 3), got (" << image.height << ", "
      << image.width << ", " << image.channels << ")";
    fail(s.str());
  }
  const int64_t elem = image.type == PixelType::kUint8 ? 1 : 4;
  if (reinterpret_cast<uintptr_t>(image.data) % static_cast<uintptr_t>(elem) != 0)
    fail("pixels data must be aligned to its element size");
  const int64_t sizes[3] = {image.height, image.width, image.channels};
  const int64_t strides[3] = {image.stride_height, image.stride_width, image.stride_channels};
  detail::check_addressable("pixels", sizes, strides, elem, image.extent, image.data_offset);
  if (out == nullptr) fail("out is a null pointer");
  const int64_t cells = static_cast<int64_t>(g.input_height) * g.input_width;
  // About 2 ns a cell on one AVX-512 core: 2^16 cells per thread (~0.1 ms) outweigh starting it
  // (tens of microseconds on a busy machine); the medium 241 x 321 input of a VGA frame runs on one.
  cpu::preprocess(image, g, detail::thread_count(num_threads, cells, int64_t{1} << 16), out);
}

void scale_back(const FloatTensorView& heads, const Geometry& g, const ScaleBackOptions& options, uint8_t* mask,
                int32_t* parts, float* probability) {
  validate_heads(heads);
  validate_geometry(g);
  detail::check_num_threads(options.num_threads);
  if (!(options.threshold >= 0.0 && options.threshold <= 1.0))
    fail("threshold must be in [0, 1], got " + std::to_string(options.threshold));
  if (mask == nullptr) fail("mask is a null pointer");
  if (parts != nullptr && reinterpret_cast<uintptr_t>(parts) % alignof(int32_t) != 0)
    fail("parts must be aligned to 4 bytes");
  if (probability != nullptr && reinterpret_cast<uintptr_t>(probability) % alignof(float) != 0)
    fail("probability must be aligned to 4 bytes");
  const float threshold = static_cast<float>(options.threshold);
  if (heads.device == Device::kCuda) {
    const int32_t device = cuda_device_of(heads);
    const ScaleBackPlan plan =
        make_scale_back_plan(static_cast<int32_t>(heads.height), static_cast<int32_t>(heads.width), g);
    cuda::scale_back(heads, plan, threshold, device, options.cuda_stream, options.heads_ready_on_stream, mask, parts,
                     probability);
    return;
  }
  const int64_t pixels = static_cast<int64_t>(g.image_height) * g.image_width;
  const int32_t threads =
      detail::thread_count(options.num_threads, pixels, parts ? int64_t{1} << 14 : int64_t{1} << 15);
  cpu::scale_back(heads, g, threshold, threads, mask, parts, probability);
}

Poses decode_poses(const FloatTensorView& heads, const Geometry& g, const PoseOptions& options) {
  validate_heads(heads);
  validate_geometry(g);
  check_stride_and_grid(heads, g, options.output_stride);
  if (options.max_detections < 1) fail("max_detections must be >= 1, got " + std::to_string(options.max_detections));
  if (!(options.score_threshold >= 0.0 && options.score_threshold <= 1.0))
    fail("score_threshold must be in [0, 1], got " + std::to_string(options.score_threshold));
  if (!(options.nms_radius > 0.0 && std::isfinite(options.nms_radius)))
    fail("nms_radius must be a finite number > 0, got " + std::to_string(options.nms_radius));
  if (heads.device == Device::kCuda) {
    const int32_t device = cuda_device_of(heads);
    std::vector<float> host(static_cast<size_t>(heads.height * heads.width * heads.channels));
    cuda::download(heads, device, nullptr, false, host.data());
    const FloatTensorView h = FloatTensorView::contiguous(host.data(), heads.height, heads.width, heads.channels);
    return cpu::decode_poses(h, g, options);
  }
  return cpu::decode_poses(heads, g, options);
}

void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const Geometry& g, int32_t output_stride, int32_t refine_steps, int32_t num_threads, int32_t* out,
                      void* cuda_stream, bool heads_ready_on_stream) {
  validate_heads(heads);
  validate_geometry(g);
  check_stride_and_grid(heads, g, output_stride);
  detail::check_num_threads(num_threads);
  if (refine_steps < 1 || refine_steps > kMaxRefineSteps)
    fail("refine_steps must be in [1, " + std::to_string(kMaxRefineSteps) + "], got " + std::to_string(refine_steps));
  if (mask.data == nullptr) fail("mask has no data (null pointer)");
  if (mask.height != g.image_height || mask.width != g.image_width)
    fail("mask must have shape (" + std::to_string(g.image_height) + ", " + std::to_string(g.image_width) + "), got (" +
         std::to_string(mask.height) + ", " + std::to_string(mask.width) + ")");
  {
    const int64_t sizes[3] = {mask.height, mask.width, 1};
    const int64_t strides[3] = {mask.stride_height, mask.stride_width, 1};
    detail::check_addressable("mask", sizes, strides, 1, -1, 0);
  }
  constexpr int64_t kMaxPeople = int64_t{1} << 20;
  if (num_people < 0 || num_people > kMaxPeople)
    fail("the number of people must be in [0, " + std::to_string(kMaxPeople) + "], got " + std::to_string(num_people));
  if (num_people > 0 && keypoints == nullptr) fail("keypoints is a null pointer");
  if (out == nullptr) fail("out is a null pointer");
  if (reinterpret_cast<uintptr_t>(out) % alignof(int32_t) != 0) fail("out must be aligned to 4 bytes");
  if (heads.device == Device::kCuda) {
    const int32_t device = cuda_device_of(heads);
    const bodypix_pixel::InstanceParams p = cpu::instance_params(heads, g, output_stride, refine_steps);
    cuda::decode_instances(heads, mask, keypoints, num_people, p, g.image_height, g.image_width, device, cuda_stream,
                           heads_ready_on_stream, out);
    return;
  }
  const int64_t pixels = static_cast<int64_t>(g.image_height) * g.image_width;
  cpu::decode_instances(heads, mask, keypoints, num_people, g, output_stride, refine_steps,
                        detail::thread_count(num_threads, pixels, int64_t{1} << 14), out);
}

}  // namespace person_segmentation::bodypix
