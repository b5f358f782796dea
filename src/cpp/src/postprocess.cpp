// Validation and dispatch: every public entry point checks its arguments here, once, before
// any kernel runs, so the kernels can assume consistent sizes and strides.
#include "person_segmentation/postprocess.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cpu/postprocess_cpu.hpp"
#include "person_segmentation/config.hpp"

// Set to 1 by CMake when the CUDA kernels are built (PERSON_SEGMENTATION_CUDA).
#ifndef PERSON_SEGMENTATION_WITH_CUDA
#define PERSON_SEGMENTATION_WITH_CUDA 0
#endif
#if PERSON_SEGMENTATION_WITH_CUDA
#include "cuda/postprocess_cuda.hpp"
#endif

namespace person_segmentation {
namespace {

constexpr int64_t kMaxGridSide = 1 << 16;  // the logit grid is the model input / 8 or so
constexpr int64_t kMaxParts = 1024;

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string shape_of(const FloatTensorView& t) {
  std::ostringstream s;
  s << "(" << t.height << ", " << t.width << ", " << t.channels << ")";
  return s.str();
}

void validate_tensor(const FloatTensorView& t, const char* name) {
  if (t.data == nullptr) fail(std::string(name) + " has no data (null pointer)");
  if (t.height < 1 || t.width < 1 || t.channels < 1 || t.height > kMaxGridSide ||
      t.width > kMaxGridSide)
    fail(std::string(name) + " must have shape (h, w, channels) with 1 <= h, w <= 65536 and channels >= 1, got " +
         shape_of(t));
  // Every stride must keep the farthest element addressable in int64.
  const int64_t limit = std::numeric_limits<int64_t>::max() / 4;
  auto reach = [](int64_t extent, int64_t stride) {
    return static_cast<long double>(extent - 1) * static_cast<long double>(stride < 0 ? -stride : stride);
  };
  if (reach(t.height, t.stride_height) + reach(t.width, t.stride_width) +
          reach(t.channels, t.stride_channels) > static_cast<long double>(limit))
    fail(std::string(name) + " has strides too large to address");
}

void validate_common(const FloatTensorView& segment, const ResizePadGeometry& g,
                     const PostprocessOptions& options, const void* out) {
  validate_tensor(segment, "segment_logits");
  if (segment.channels != 1)
    fail("segment_logits must have exactly 1 channel, got shape " + shape_of(segment));
  validate_geometry(g);
  if (segment.height > g.model_height || segment.width > g.model_width) {
    std::ostringstream s;
    s << "segment_logits grid " << segment.height << "x" << segment.width
      << " is larger than the model input " << g.model_height << "x" << g.model_width;
    fail(s.str());
  }
  if (std::isnan(options.segmentation_threshold)) fail("segmentation_threshold must not be NaN");
  if (options.num_threads < 0)
    fail("num_threads must be >= 0 (0 = automatic), got " + std::to_string(options.num_threads));
  if (out == nullptr) fail("output buffer is a null pointer");
}

/// Threads actually used: the request (or one per hardware thread), but never so many that
/// a thread gets less than `pixels_per_thread` output pixels (starting one costs ~30 us).
int32_t resolve_threads(const PostprocessOptions& options, const ResizePadGeometry& g, int64_t pixels_per_thread) {
  const int64_t pixels = static_cast<int64_t>(g.image_height) * g.image_width;
  const int64_t useful = std::max<int64_t>(1, pixels / pixels_per_thread);
  const int64_t requested = options.num_threads > 0 ? options.num_threads : default_num_threads();
  return static_cast<int32_t>(std::min(requested, useful));
}

// Work per output pixel is ~1 ns for a mask and several for a part map.
constexpr int64_t kMaskPixelsPerThread = int64_t{1} << 16;
constexpr int64_t kPartPixelsPerThread = int64_t{1} << 15;

/// Whether this call runs the CUDA kernels (after checking that it can).
bool runs_on_cuda(const FloatTensorView& segment, const FloatTensorView* parts, const PostprocessOptions& options) {
  if (parts != nullptr && (parts->device != segment.device || parts->device_id != segment.device_id))
    fail("segment_logits and part_logits must be on the same device");
  const bool cuda = segment.device == Device::kCuda || options.compute_device == Device::kCuda;
  if (!cuda) return false;
#if PERSON_SEGMENTATION_WITH_CUDA
  const int32_t devices = cuda::device_count();
  if (devices == 0)
    throw std::runtime_error("CUDA post-processing was requested but no CUDA device is available (see build_info())");
  if (segment.device == Device::kCuda && (segment.device_id < 0 || segment.device_id >= devices))
    fail("logits are on CUDA device " + std::to_string(segment.device_id) + " but only " + std::to_string(devices) +
         " device(s) exist");
  if (parts != nullptr && parts->channels > cuda::kMaxParts)
    fail("the CUDA kernels take at most " + std::to_string(cuda::kMaxParts) + " part channels, got " +
         std::to_string(parts->channels));
  return true;
#else
  throw std::runtime_error("CUDA post-processing was requested but this build has no CUDA support (see build_info())");
#endif
}

}  // namespace

int32_t default_num_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int32_t>(n);
}

void person_mask(const FloatTensorView& segment_logits, const ResizePadGeometry& geometry,
                 const PostprocessOptions& options, uint8_t* out) {
  validate_common(segment_logits, geometry, options, out);
  if (runs_on_cuda(segment_logits, nullptr, options)) {
#if PERSON_SEGMENTATION_WITH_CUDA
    cuda::person_mask(segment_logits, geometry, options, out);
#endif
    return;
  }
  cpu::person_mask(segment_logits, geometry, options, resolve_threads(options, geometry, kMaskPixelsPerThread), out);
}

void part_segmentation(const FloatTensorView& segment_logits, const FloatTensorView& part_logits,
                       const ResizePadGeometry& geometry, const PostprocessOptions& options,
                       int32_t* out) {
  validate_common(segment_logits, geometry, options, out);
  validate_tensor(part_logits, "part_logits");
  if (part_logits.height != segment_logits.height || part_logits.width != segment_logits.width)
    fail("part_logits grid " + shape_of(part_logits) + " does not match segment_logits grid " +
         shape_of(segment_logits));
  if (part_logits.channels > kMaxParts)
    fail("part_logits has too many channels: " + shape_of(part_logits));
  if (runs_on_cuda(segment_logits, &part_logits, options)) {
#if PERSON_SEGMENTATION_WITH_CUDA
    cuda::part_segmentation(segment_logits, part_logits, geometry, options, out);
#endif
    return;
  }
  cpu::part_segmentation(segment_logits, part_logits, geometry, options,
                         resolve_threads(options, geometry, kPartPixelsPerThread), out);
}

bool cuda_compiled() { return PERSON_SEGMENTATION_WITH_CUDA != 0; }

int32_t cuda_device_count() {
#if PERSON_SEGMENTATION_WITH_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

std::string build_summary() {
  std::ostringstream s;
  s << "person_segmentation " << PERSON_SEGMENTATION_VERSION_MAJOR << "."
    << PERSON_SEGMENTATION_VERSION_MINOR << "." << PERSON_SEGMENTATION_VERSION_PATCH
#if defined(__clang__)
    << ", clang " << __clang_major__ << "." << __clang_minor__
#elif defined(__GNUC__)
    << ", gcc " << __GNUC__ << "." << __GNUC_MINOR__
#elif defined(_MSC_VER)
    << ", msvc " << _MSC_VER
#endif
    << ", cpu threads " << default_num_threads()
    << (cuda_compiled() ? ", CUDA compiled in" : ", no CUDA");
  return s.str();
}

}  // namespace person_segmentation
