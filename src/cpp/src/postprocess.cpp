// Validation and dispatch: every public entry point checks its arguments here, once, before
// any kernel runs, so the kernels can assume consistent sizes and strides. The CUDA side is
// called through its interface (cuda/postprocess_cuda.hpp) in every build: without CUDA, CMake
// compiles a stub of it that reports no kernels and no devices.
#include "person_segmentation/postprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cpu/postprocess_cpu.hpp"
#include "cuda/postprocess_cuda.hpp"
#include "person_segmentation/constants.hpp"
#include "person_segmentation/runtime.hpp"
#include "view_check.hpp"

namespace person_segmentation {
namespace {

constexpr int64_t kMaxGridSide = kMaxImageSide;  // the logit grid is the model input / 8 or so

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string shape_of(const FloatTensorView& t) {
  std::ostringstream s;
  s << "(" << t.height << ", " << t.width << ", " << t.channels << ")";
  return s.str();
}

const char* device_name(Device d) { return d == Device::kCpu ? "kCpu" : (d == Device::kCuda ? "kCuda" : "invalid"); }

bool is_device(Device d) { return d == Device::kCpu || d == Device::kCuda; }

/// Checks everything about a view that does not depend on the other arguments: device,
/// data, shape (channels in [1, max_channels]), strides and, when given, its extent.
void validate_tensor(const FloatTensorView& t, const char* name, int64_t max_channels) {
  const std::string n(name);
  if (!is_device(t.device))
    fail(n + ".device must be Device::kCpu (0) or Device::kCuda (1), got " +
         std::to_string(static_cast<int32_t>(t.device)));
  if (t.device == Device::kCpu && t.device_id != 0)
    fail(n + ".device_id must be 0 for a CPU tensor, got " + std::to_string(t.device_id));
  if (t.device_id < 0) fail(n + ".device_id must be >= 0, got " + std::to_string(t.device_id));
  if (t.data == nullptr) fail(n + " has no data (null pointer)");
  if (t.height < 1 || t.width < 1 || t.channels < 1 || t.height > kMaxGridSide || t.width > kMaxGridSide)
    fail(n + " must have shape (h, w, channels) with 1 <= h, w <= " + std::to_string(kMaxGridSide) +
         " and channels >= 1, got " + shape_of(t));
  if (max_channels == 1 && t.channels != 1) fail(n + " must have exactly 1 channel, got shape " + shape_of(t));
  if (t.channels > max_channels)
    fail(n + " has too many channels (at most " + std::to_string(max_channels) + "): " + shape_of(t));

  const int64_t sizes[3] = {t.height, t.width, t.channels};
  const int64_t strides[3] = {t.stride_height, t.stride_width, t.stride_channels};
  detail::check_addressable(n, sizes, strides, static_cast<int64_t>(sizeof(float)), t.extent, t.data_offset);
}

void validate_common(const FloatTensorView& segment, const ResizePadGeometry& g, const PostprocessOptions& options,
                     const void* out) {
  validate_tensor(segment, "segment_logits", 1);
  validate_geometry(g);
  if (segment.height > g.model_height || segment.width > g.model_width) {
    std::ostringstream s;
    s << "segment_logits grid " << segment.height << "x" << segment.width << " is larger than the model input "
      << g.model_height << "x" << g.model_width;
    fail(s.str());
  }
  if (std::isnan(options.segmentation_threshold)) fail("segmentation_threshold must not be NaN");
  if (options.num_threads < 0)
    fail("num_threads must be >= 0 (0 = automatic), got " + std::to_string(options.num_threads));
  if (!is_device(options.compute_device))
    fail("compute_device must be Device::kCpu (0) or Device::kCuda (1), got " +
         std::to_string(static_cast<int32_t>(options.compute_device)));
  if (out == nullptr) fail("output buffer is a null pointer");
  // The result's size in bytes must be addressable (matters on 32-bit targets only).
  const uint64_t pixels = static_cast<uint64_t>(g.image_height) * static_cast<uint64_t>(g.image_width);
  if (pixels > static_cast<uint64_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(int32_t))
    fail("image_height * image_width = " + std::to_string(pixels) + " is too large for this platform");
}

/// Threads actually used: the request (or one per hardware thread), but never so many that
/// a thread gets less than `pixels_per_thread` output pixels (starting one costs ~30 us).
int32_t resolve_threads(const PostprocessOptions& options, const ResizePadGeometry& g, int64_t pixels_per_thread) {
  const int64_t pixels = static_cast<int64_t>(g.image_height) * g.image_width;
  const int64_t useful = std::max<int64_t>(1, pixels / pixels_per_thread);
  const int64_t requested = detail::requested_threads(options.num_threads, default_num_threads());
  return static_cast<int32_t>(std::min(requested, useful));
}

// Work per output pixel is ~1 ns for a mask and several for a part map.
constexpr int64_t kMaskPixelsPerThread = int64_t{1} << 16;
constexpr int64_t kPartPixelsPerThread = int64_t{1} << 15;

/// Whether this call runs the CUDA kernels (after checking that it can).
bool runs_on_cuda(const FloatTensorView& segment, const FloatTensorView* parts, const PostprocessOptions& options) {
  if (parts != nullptr && (parts->device != segment.device || parts->device_id != segment.device_id))
    fail(std::string("segment_logits and part_logits must be on the same device, got ") + device_name(segment.device) +
         " " + std::to_string(segment.device_id) + " and " + device_name(parts->device) + " " +
         std::to_string(parts->device_id));
  const bool cuda = segment.device == Device::kCuda || options.compute_device == Device::kCuda;
  if (!cuda) return false;
  if (!cuda::compiled())
    throw std::runtime_error(
        "CUDA post-processing was requested but this build has no CUDA support (see build_info())");
  const int32_t devices = cuda::device_count();
  if (devices == 0)
    throw std::runtime_error("CUDA post-processing was requested but no CUDA device is available (see build_info())");
  if (segment.device == Device::kCuda && (segment.device_id < 0 || segment.device_id >= devices))
    fail("logits are on CUDA device " + std::to_string(segment.device_id) + " but only " + std::to_string(devices) +
         " device(s) exist");
  if (parts != nullptr && parts->channels > cuda::kMaxCudaPartChannels)
    fail("the CUDA kernels take at most " + std::to_string(cuda::kMaxCudaPartChannels) + " part channels, got " +
         std::to_string(parts->channels));
  return true;
}

}  // namespace

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, uint8_t* out) {
  validate_common(segment_logits, geometry, options, out);
  if (runs_on_cuda(segment_logits, nullptr, options)) {
    cuda::person_mask(segment_logits, geometry, options, out);
    return;
  }
  cpu::person_mask(segment_logits, geometry, options, resolve_threads(options, geometry, kMaskPixelsPerThread), out);
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options, int32_t* out) {
  validate_common(segment_logits, geometry, options, out);
  validate_tensor(part_logits, "part_logits", kMaxPartChannels);
  if (part_logits.height != segment_logits.height || part_logits.width != segment_logits.width)
    fail("part_logits grid " + shape_of(part_logits) + " does not match segment_logits grid " +
         shape_of(segment_logits));
  if (runs_on_cuda(segment_logits, &part_logits, options)) {
    cuda::part_segmentation(segment_logits, part_logits, geometry, options, out);
    return;
  }
  cpu::part_segmentation(segment_logits, part_logits, geometry, options,
                         resolve_threads(options, geometry, kPartPixelsPerThread), out);
}

}  // namespace person_segmentation
