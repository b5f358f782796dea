// Fuzz target of the native entry points: the post-processing (person_mask,
// part_segmentation) and the pre-processing (resize_pad_normalize) for the same geometry.
//
// Bytes decode into one call's worth of arguments: a geometry (from compute_geometry, a
// perturbed one, a random consistent one or raw field values), logit grids with contiguous,
// permuted, padded, negative, zero, random or huge strides over a buffer sized for them
// (extent given, unknown, deliberately too small or nonsense, or a null pointer), thresholds
// incl. NaN/inf, flip, num_threads incl. negative, and raw device / compute_device values.
// Oracles: the outcome each call must have (success, std::invalid_argument, or
// std::runtime_error for CUDA in a build without it), derived here independently from the
// documented limits; every output pixel written and in range; mask == (part map != -1); and
// on a share of the cases the same result from a contiguous copy of the logits, from one
// thread, and from the per-pixel evaluation pixel/direct_pixel.hpp (which the CUDA kernels run).
// The pre-processing gets an image view (uint8, float32 or a raw nonsense pixel type; shape
// mostly that of the geometry; the same stride and memory variants) whose float pixels include
// NaN, infinities and out-of-range values. Oracles: the outcome derived from the documented
// rules; every model-input value in [-1, 1] and the padding exactly -1; and on a share of the
// cases the same values from a contiguous copy, from another thread count, from the mirrored
// view without flip_horizontal (against the flipped one) and from the uint8 pixels given as
// float32.
// Any other exception, a wrong outcome or a sanitizer report is a finding.
//
// Built with libFuzzer (-DPERSON_SEGMENTATION_LIBFUZZER=ON, clang) this file is only
// LLVMFuzzerTestOneInput. Otherwise it has a main(): a deterministic randomized driver,
//   fuzz_postprocess [--seconds S] [--seed N] [--case I] [--max-cases N] [--verbose] [FILE...]
// which runs handcrafted edge cases, then byte strings from a seeded PRNG, for S seconds
// (default 10), and prints how many it ran; FILEs are run as single inputs (e.g. a crash file
// written by a failing run, or a libFuzzer crash input), and --case I reruns case I of a seed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "person_segmentation/person_segmentation.hpp"
#include "person_segmentation/preprocess.hpp"
#include "pixel/direct_pixel.hpp"
#include "pixel/postprocess_pixel.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PS_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PS_FUZZ_ASAN)
#define PS_FUZZ_ASAN 1
#endif
#if defined(PS_FUZZ_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define PS_FUZZ_POSIX 1
#endif

namespace ps = person_segmentation;

namespace {

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
// The documented limits (postprocess.hpp, constants.hpp), restated here as the oracle; the
// static_asserts only catch the two drifting apart.
constexpr int64_t kMaxGrid = 65536;
constexpr int64_t kMaxPartChannels = 1024;
static_assert(kMaxGrid == ps::kMaxImageSide, "the oracle's largest side differs from kMaxImageSide");
static_assert(kMaxPartChannels == ps::kMaxPartChannels, "the oracle's part limit differs from kMaxPartChannels");
constexpr int64_t kStrideLimit = kI64Max / 4;  // farthest element, in elements from data
// What one case may cost: output pixels (more in a "large" case, for several threads),
// stage-1 work, the logits buffer.
constexpr int64_t kMaxPixels = int64_t{1} << 14;
constexpr int64_t kMaxPixelsLarge = int64_t{1} << 18;
constexpr int64_t kMaxStage1 = int64_t{1} << 22;
constexpr int64_t kMaxBuffer = int64_t{1} << 20;
// Pre-processing: the largest model input a case writes.
constexpr int64_t kMaxModelPixels = int64_t{1} << 20;
/// How a pre-processing case's image shape is chosen (Case::image_shape).
enum ImageShape : uint8_t {
  kLikeGeometry,  // (image_height, image_width, 3)
  kChannels,      // channels = shape_value
  kOffBy,         // axis shape_axis (height or width) off by shape_value (-2..2)
  kSpecialSide,   // axis shape_axis = shape_value
  kSmall,         // (shape_axis, shape_value, 3), small, whatever the geometry
};

// ---- reading choices from the bytes -------------------------------------------------------

/// Reads choices from the input; once it runs out every read is 0, so a short or empty input
/// decodes to a small valid case.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t bytes(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    return v;
  }
  /// Uniform-ish in [0, n).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const int width = n <= 256 ? 1 : n <= 65536 ? 2 : n <= (uint64_t{1} << 32) ? 4 : 8;
    return bytes(width) % n;
  }
  int64_t in(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1)); }
  bool percent(int p) { return byte() % 100 < p; }
  template <typename T, size_t N>
  T pick(const T (&values)[N]) {
    return values[below(N)];
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float float_of_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// ---- one case -----------------------------------------------------------------------------

/// How the view's bounds are declared (FloatTensorView::extent / data_offset).
enum class Memory : uint8_t {
  kExact,       // extent and data_offset of the real buffer
  kUnknown,     // extent -1 (the buffer really covers the view)
  kShortEnd,    // claimed buffer ends before the highest addressed element
  kShortStart,  // claimed buffer starts after the lowest addressed element
  kNonsense,    // extent < -1, data_offset outside [0, extent), or data_offset without extent
  kNull,        // data is a null pointer
};

struct ViewSpec {
  int64_t h = 1, w = 1, c = 1;
  int64_t stride[3] = {1, 1, 1};  // height, width, channels
  Memory memory = Memory::kExact;
  uint32_t slack_before = 0, slack_after = 0;  // extra floats around the addressed range
  int64_t cut = 1;                             // how much kShort* cut off (>= 1)
  uint8_t nonsense = 0;                        // which kNonsense variant
  int32_t device = 0;                          // raw ps::Device value
  int32_t device_id = 0;
};

struct Case {
  // Geometry: compute_geometry(args) (then `perturb` one field), or `raw` as given.
  bool compute = true;
  int32_t args[4] = {1, 1, ps::kModelHeight, ps::kModelWidth};
  int perturb_field = -1;  // index into the 10 fields
  int32_t perturb_value = 0;
  ps::ResizePadGeometry raw;
  ViewSpec segment, parts;
  float threshold = 0.5f;
  bool flip = false;
  int32_t num_threads = 0;
  int32_t compute_device = 0;
  bool null_out = false;
  uint64_t value_seed = 0;
  uint8_t value_mode = 0;
  uint8_t extra_checks = 0;  // bit 0: contiguous copy, bit 1: one thread, bit 2: per-pixel reference
  bool large = false;        // allow kMaxPixelsLarge output pixels
  // Pre-processing: the image's shape (ImageShape; `shape_axis` and `shape_value` say how it
  // departs from the geometry's image size and 3 channels) and raw pixel type; its strides
  // and memory are decoded from `image_layout` once the shape is known.
  uint8_t image_shape = 0;
  int shape_axis = 0;
  int64_t shape_value = 0;
  int32_t pixel_type = 0;
  uint8_t image_layout[24] = {};
  uint8_t pixel_mode = 0;
  uint8_t pre_checks = 0;  // bit 0: contiguous copy, bit 1: other threads, bit 2: mirrored view, bit 3: as float32
  bool pre_flip = false;
  int32_t pre_threads = 1;
};

int32_t* geometry_field(ps::ResizePadGeometry& g, int i) {
  int32_t* fields[10] = {&g.image_height,  &g.image_width, &g.model_height, &g.model_width, &g.resized_height,
                         &g.resized_width, &g.pad_top,     &g.pad_bottom,   &g.pad_left,    &g.pad_right};
  return fields[i];
}

const int32_t kSpecial32[] = {kI32Min, kI32Min + 1, -65536,  -2,           -1,          0,      1,   2,    3,
                              7,       8,           64,      256,          257,         352,    353, 4096, 65535,
                              65536,   65537,       1 << 24, kI32Max - 31, kI32Max - 1, kI32Max};
const int64_t kSpecialSize[] = {kI64Min, -65536, -1, 0, 65536, 65537, int64_t{1} << 31, int64_t{1} << 32, kI64Max};
const int64_t kHugeStride[] = {int64_t{1} << 31, -(int64_t{1} << 31), int64_t{1} << 40, -(int64_t{1} << 47),
                               kStrideLimit / 2, kStrideLimit - 1,    kStrideLimit,     kStrideLimit + 1,
                               -kStrideLimit,    -kStrideLimit - 1,   int64_t{1} << 62, kI64Max,
                               kI64Min,          kI64Min + 1};

/// Image sizes: mostly small, some 1xN / Nx1 / 4096 wide, some large enough for threads.
void image_size(Input& in, int32_t* h, int32_t* w) {
  switch (in.byte() % 10) {
    default:
      *h = static_cast<int32_t>(in.in(1, 128));
      *w = static_cast<int32_t>(in.in(1, 128));
      break;
    case 6:
      *h = 1;
      *w = static_cast<int32_t>(in.in(1, 4096));
      if (in.byte() & 1) std::swap(*h, *w);
      break;
    case 7:
      *h = static_cast<int32_t>(in.in(1, 16));
      *w = in.byte() & 1 ? 4096 : static_cast<int32_t>(in.in(1, 4096));
      break;
    case 8:
      *h = static_cast<int32_t>(in.in(1, 1024));
      *w = static_cast<int32_t>(in.in(1, 1024));
      break;
    case 9:
      *h = static_cast<int32_t>(in.in(1, 4096));
      *w = static_cast<int32_t>(in.in(1, 4096));
      break;
  }
}

int64_t grid_side(Input& in) {
  const uint8_t k = in.byte() % 32;
  if (k < 29) return in.in(1, 64);
  if (k < 31) return in.in(65, 400);
  return in.pick(kSpecialSize);
}

/// Strides for the view's shape: a layout, then sign flips / zeros / one huge stride.
void choose_strides(Input& in, ViewSpec& v) {
  const uint8_t layout = in.byte() % 8;
  const bool sane = v.h >= 1 && v.h <= 4096 && v.w >= 1 && v.w <= 4096 && v.c >= 1 && v.c <= 4096;
  if (layout == 7 || !sane) {  // anything small
    for (auto& s : v.stride) s = in.in(-70, 70);
    return;
  }
  // Axes from outer to inner (a permutation), packed with optional padding.
  static const int kPerms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  const int* order = layout == 0 ? kPerms[0] : kPerms[in.below(6)];
  const int64_t sizes[3] = {v.h, v.w, v.c};
  int64_t pitch = layout >= 2 ? in.in(1, 3) : 1;
  for (int i = 2; i >= 0; --i) {
    v.stride[order[i]] = pitch;
    pitch = pitch * sizes[order[i]] + (layout >= 2 ? in.in(0, 5) : 0);
  }
  if (layout == 3 || layout == 6) {  // negative
    uint8_t bits = in.byte();
    if (in.byte() & 1) bits |= 7;
    for (int a = 0; a < 3; ++a)
      if (bits & (1 << a)) v.stride[a] = -v.stride[a];
  }
  if (layout == 4 || layout == 6) {  // zero (broadcast)
    const uint8_t bits = in.byte();
    for (int a = 0; a < 3; ++a)
      if (bits & (1 << a)) v.stride[a] = 0;
  }
  if (layout == 5) v.stride[in.below(3)] = in.pick(kHugeStride);
}

void choose_memory(Input& in, ViewSpec& v) {
  const uint8_t k = in.byte() % 32;
  v.memory = k < 16   ? Memory::kExact
             : k < 24 ? Memory::kUnknown
             : k < 27 ? Memory::kShortEnd
             : k < 29 ? Memory::kShortStart
             : k < 31 ? Memory::kNonsense
                      : Memory::kNull;
  if (in.byte() % 4 == 0) {
    v.slack_before = static_cast<uint32_t>(in.in(0, 64));
    v.slack_after = static_cast<uint32_t>(in.in(0, 64));
  }
  v.cut = in.in(1, 3) == 3 ? in.in(1, 1000) : 1;
  v.nonsense = in.byte();
}

void choose_device(Input& in, ViewSpec& v) {
  if (in.byte() % 32 != 0) return;
  static const int32_t kDevices[][2] = {{0, 1}, {0, -1}, {0, kI32Max}, {1, 0},       {1, -1},
                                        {1, 3}, {2, 0},  {-1, 0},      {kI32Min, 0}, {255, 0}};
  const auto& d = kDevices[in.below(std::size(kDevices))];
  v.device = d[0];
  v.device_id = d[1];
}

Case decode(Input& in) {
  Case c;
  // Geometry.
  const uint8_t mode = in.byte() % 16;
  if (mode < 11) {
    image_size(in, &c.args[0], &c.args[1]);
    if (in.byte() % 4 == 0) {
      c.args[2] = in.byte() % 8 == 0 ? in.pick(kSpecial32) : static_cast<int32_t>(in.in(1, 700));
      c.args[3] = in.byte() % 8 == 0 ? in.pick(kSpecial32) : static_cast<int32_t>(in.in(1, 700));
    }
    if (in.byte() % 16 == 0) c.args[in.below(2)] = in.pick(kSpecial32);
    if (mode == 10) {
      c.perturb_field = static_cast<int>(in.below(10));
      c.perturb_value = in.byte() & 1 ? in.pick(kSpecial32) : static_cast<int32_t>(in.in(-2, 2));  // +- delta
    }
  } else if (mode < 14) {  // random but consistent
    c.compute = false;
    ps::ResizePadGeometry& g = c.raw;
    image_size(in, &g.image_height, &g.image_width);
    g.model_height = in.byte() % 16 == 0 ? static_cast<int32_t>(in.in(1, 65536)) : static_cast<int32_t>(in.in(1, 700));
    g.model_width = in.byte() % 16 == 0 ? static_cast<int32_t>(in.in(1, 65536)) : static_cast<int32_t>(in.in(1, 700));
    g.resized_height = static_cast<int32_t>(in.in(1, g.model_height));
    g.resized_width = static_cast<int32_t>(in.in(1, g.model_width));
    g.pad_top = static_cast<int32_t>(in.in(0, g.model_height - g.resized_height));
    g.pad_bottom = g.model_height - g.resized_height - g.pad_top;
    g.pad_left = static_cast<int32_t>(in.in(0, g.model_width - g.resized_width));
    g.pad_right = g.model_width - g.resized_width - g.pad_left;
  } else {  // raw field values
    c.compute = false;
    for (int i = 0; i < 10; ++i)
      *geometry_field(c.raw, i) = in.byte() & 1 ? in.pick(kSpecial32) : static_cast<int32_t>(in.in(0, 400));
  }

  // Logit grids.
  ViewSpec& s = c.segment;
  ViewSpec& p = c.parts;
  s.h = grid_side(in);
  s.w = grid_side(in);
  s.c = in.byte() % 32 == 0 ? (in.byte() & 1 ? in.pick(kSpecialSize) : in.in(2, 30)) : 1;
  p.h = s.h;
  p.w = s.w;
  if (in.byte() % 32 == 0) {  // grids that differ
    int64_t& side = in.byte() & 1 ? p.h : p.w;
    const int64_t delta = in.in(-2, 2);
    if (side > -65536 && side < 65536) side += delta;
  }
  const uint8_t parts = in.byte() % 16;
  p.c = parts < 6 ? 24 : parts < 14 ? in.in(1, 40) : parts == 14 ? in.in(41, 1025) : in.pick(kSpecialSize);
  choose_strides(in, s);
  choose_strides(in, p);
  choose_memory(in, s);
  choose_memory(in, p);
  choose_device(in, s);
  choose_device(in, p);

  // Options.
  switch (in.byte() % 16) {
    default:
      c.threshold = 0.5f;
      break;
    case 8:
    case 9:
    case 10:
      c.threshold = static_cast<float>(in.bytes(4) & 0xFFFFFF) / 16777216.0f;
      break;
    case 11:
      c.threshold = in.byte() & 1 ? 1.0f : 0.0f;
      break;
    case 12:
      c.threshold = in.pick({std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::signaling_NaN(), float_of_bits(0x7F800001u)});
      break;
    case 13:
      c.threshold = in.byte() & 1 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
      break;
    case 14:
      c.threshold =
          in.pick({-1.0f, 2.0f, -0.0f, std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(),
                   std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 0.49999997f, 0.50000006f});
      break;
    case 15:
      c.threshold = float_of_bits(static_cast<uint32_t>(in.bytes(4)));
      break;
  }
  c.flip = in.byte() & 1;
  const uint8_t threads = in.byte() % 16;
  c.num_threads = threads < 10    ? static_cast<int32_t>(threads % 9)
                  : threads < 13  ? 1
                  : threads == 13 ? in.pick({-1, -8, kI32Min})
                  : threads == 14 ? in.pick({16, 64, 1000})
                                  : kI32Max;
  const uint8_t device = in.byte() % 32;
  c.compute_device = device < 29 ? 0 : device == 29 ? 1 : in.pick({2, -1, 7, kI32Min, kI32Max});
  c.null_out = in.byte() % 40 == 0;
  c.value_seed = in.bytes(8);
  c.value_mode = in.byte();
  c.extra_checks = in.byte();
  c.large = in.byte() % 8 == 0;

  // Pre-processing.
  switch (in.byte() % 16) {
    default:
      c.image_shape = kLikeGeometry;
      break;
    case 12:
      c.image_shape = kChannels;
      c.shape_value = in.pick({int64_t{0}, int64_t{1}, int64_t{2}, int64_t{4}, kI64Min, kI64Max});
      break;
    case 13:
      c.image_shape = kOffBy;
      c.shape_axis = static_cast<int>(in.below(2));
      c.shape_value = in.in(-2, 2);
      break;
    case 14:
      c.image_shape = kSpecialSide;
      c.shape_axis = static_cast<int>(in.below(3));
      c.shape_value = in.pick(kSpecialSize);
      break;
    case 15:
      c.image_shape = kSmall;
      c.shape_axis = static_cast<int>(in.in(1, 64));
      c.shape_value = in.in(1, 64);
      break;
  }
  const uint8_t type = in.byte() % 16;
  c.pixel_type = type < 9 ? 0 : type < 15 ? 1 : in.pick({2, -1, 255, kI32Min, kI32Max});
  for (uint8_t& b : c.image_layout) b = in.byte();
  c.pixel_mode = in.byte();
  c.pre_checks = in.byte();
  c.pre_flip = in.byte() & 1;
  const uint8_t pre_threads = in.byte() % 16;
  c.pre_threads = pre_threads < 12   ? static_cast<int32_t>(pre_threads % 4)
                  : pre_threads < 15 ? in.pick({-1, kI32Min})
                                     : 64;
  return c;
}

// ---- the oracle ---------------------------------------------------------------------------

bool geometry_valid(const ps::ResizePadGeometry& g) {
  for (int i = 0; i < 10; ++i) {
    const int64_t v = *geometry_field(const_cast<ps::ResizePadGeometry&>(g), i);
    if (v < (i >= 6 ? 0 : 1) || v > 65536) return false;
  }
  return int64_t{g.pad_top} + g.resized_height + g.pad_bottom == g.model_height &&
         int64_t{g.pad_left} + g.resized_width + g.pad_right == g.model_width;
}

/// How far the lowest / highest addressed element of a view (FloatTensorView or ImageView)
/// lies before / after data, in elements (exact).
template <typename View>
void reach(const View& v, __int128* below, __int128* above) {
  *below = *above = 0;
  const int64_t sizes[3] = {v.height, v.width, v.channels};
  const int64_t strides[3] = {v.stride_height, v.stride_width, v.stride_channels};
  for (int a = 0; a < 3; ++a) {
    if (sizes[a] < 2) continue;
    const __int128 r = static_cast<__int128>(sizes[a] - 1) * strides[a];
    (r < 0 ? *below : *above) += r < 0 ? -r : r;
  }
}

/// The rule of detail::check_addressable, restated: a view (of positive sizes) reaching at
/// most `limit` elements in all, and, with a declared extent, only elements of its buffer.
template <typename View>
bool addressable(const View& v, int64_t limit) {
  __int128 below, above;
  reach(v, &below, &above);
  if (below + above > limit) return false;
  if (v.extent == -1) return v.data_offset == 0;
  if (v.extent < 0 || v.data_offset < 0 || v.data_offset >= v.extent) return false;
  return below <= v.data_offset && above < static_cast<__int128>(v.extent) - v.data_offset;
}

bool view_valid(const ps::FloatTensorView& v, int64_t max_channels) {
  const int32_t device = static_cast<int32_t>(v.device);
  if (device != 0 && device != 1) return false;
  if (device == 0 && v.device_id != 0) return false;
  if (v.device_id < 0 || v.data == nullptr) return false;
  if (v.height < 1 || v.height > kMaxGrid || v.width < 1 || v.width > kMaxGrid) return false;
  if (v.channels < 1 || v.channels > max_channels) return false;
  return addressable(v, kStrideLimit);
}

/// A view of fresh memory laid out as `spec` says, filled with logits.
struct Logits {
  std::vector<float> buffer;
  ps::FloatTensorView view;
  bool backed = false;  // the buffer really holds every addressed element
};

float logit(uint64_t& state, uint8_t mode) {
  const uint64_t r = splitmix64(state);
  const float u = static_cast<float>(r >> 40) / 16777216.0f;  // [0, 1)
  switch (mode % 8) {
    case 6: {  // specials now and then
      if ((r & 15) != 0) return 16.0f * u - 8.0f;
      static const float kSpecial[] = {std::numeric_limits<float>::quiet_NaN(),
                                       std::numeric_limits<float>::infinity(),
                                       -std::numeric_limits<float>::infinity(),
                                       std::numeric_limits<float>::max(),
                                       -std::numeric_limits<float>::max(),
                                       std::numeric_limits<float>::denorm_min(),
                                       -0.0f,
                                       0.0f,
                                       88.7f,
                                       -88.7f,
                                       1e-30f};
      return kSpecial[(r >> 4) % std::size(kSpecial)];
    }
    case 7:
      return static_cast<float>(static_cast<int>((r >> 8) % 3) - 1);  // ties
    default:
      return 40.0f * u - 20.0f;
  }
}

/// The bounds a view declares (FloatTensorView / ImageView extent and data_offset, and whether
/// its data pointer is null) for a buffer of `size` elements that data enters at `data_index`,
/// reaching `below` elements before data and `above` after: the real ones, or as
/// `spec.memory` says, wrong ones.
struct Bounds {
  int64_t extent;
  int64_t data_offset;
  bool null = false;
};

Bounds declared_bounds(const ViewSpec& spec, bool backed, __int128 below, __int128 above, int64_t size,
                       int64_t data_index) {
  Bounds d{size, data_index};
  const Memory memory = !backed && spec.memory == Memory::kUnknown ? Memory::kExact : spec.memory;
  switch (memory) {
    case Memory::kExact:
      break;
    case Memory::kUnknown:
      d.extent = -1;
      d.data_offset = 0;
      break;
    case Memory::kShortEnd: {  // end the claimed buffer before the highest element
      const __int128 end = static_cast<__int128>(data_index) + above + 1 - spec.cut;
      d.extent = static_cast<int64_t>(std::clamp<__int128>(end, 0, kI64Max));
      break;
    }
    case Memory::kShortStart: {  // start the claimed buffer after the lowest element
      if (below == 0 || !backed) {
        d.extent = data_index;  // data_offset == extent: outside
        break;
      }
      const int64_t cut = static_cast<int64_t>(std::min<__int128>(spec.cut, below));
      d.data_offset = static_cast<int64_t>(below) - cut;
      d.extent = d.data_offset + static_cast<int64_t>(above) + 1;
      break;
    }
    case Memory::kNonsense:
      switch (spec.nonsense % 6) {
        case 0:
          d.extent = -2;
          break;
        case 1:
          d.extent = kI64Min;
          break;
        case 2:
          d.data_offset = -1;
          break;
        case 3:
          d.data_offset = d.extent;
          break;
        case 4:
          d.data_offset = kI64Min;
          break;
        default:
          d.extent = -1;
          d.data_offset = data_index == 0 ? 1 : data_index;
          break;
      }
      break;
    case Memory::kNull:
      d.null = true;
      break;
  }
  return d;
}

/// Gives a view (FloatTensorView or ImageView) the shape and strides of `spec`.
template <typename View>
void set_shape(View& v, const ViewSpec& spec) {
  v.height = spec.h;
  v.width = spec.w;
  v.channels = spec.c;
  v.stride_height = spec.stride[0];
  v.stride_width = spec.stride[1];
  v.stride_channels = spec.stride[2];
}

Logits make_logits(const ViewSpec& spec, uint64_t seed, uint8_t value_mode) {
  Logits t;
  ps::FloatTensorView& v = t.view;
  set_shape(v, spec);
  v.device = static_cast<ps::Device>(spec.device);
  v.device_id = spec.device_id;
  __int128 below, above;
  reach(v, &below, &above);
  const __int128 span = below + above + 1;
  const bool fits = span + spec.slack_before + spec.slack_after <= kMaxBuffer;
  int64_t data_index;
  if (fits) {
    t.buffer.resize(static_cast<size_t>(span + spec.slack_before + spec.slack_after));
    data_index = spec.slack_before + static_cast<int64_t>(below);
    t.backed = true;
  } else {  // cannot back it: a small buffer, whose true size is always declared
    t.buffer.resize(16);
    data_index = 8;
  }
  uint64_t state = seed;
  for (float& x : t.buffer) x = logit(state, value_mode);
  v.data = t.buffer.data() + data_index;
  const Bounds bounds =
      declared_bounds(spec, t.backed, below, above, static_cast<int64_t>(t.buffer.size()), data_index);
  v.extent = bounds.extent;
  v.data_offset = bounds.data_offset;
  if (bounds.null) v.data = nullptr;
  return t;
}

/// A C-contiguous copy of a backed view's elements.
std::vector<float> gather(const ps::FloatTensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.height * v.width * v.channels));
  size_t i = 0;
  for (int64_t y = 0; y < v.height; ++y)
    for (int64_t x = 0; x < v.width; ++x)
      for (int64_t k = 0; k < v.channels; ++k)
        out[i++] = v.data[y * v.stride_height + x * v.stride_width + k * v.stride_channels];
  return out;
}

enum class Outcome { kSuccess = 1, kInvalidArgument = 2, kRuntimeError = 4 };
const char* name_of(Outcome o) {
  return o == Outcome::kSuccess           ? "success"
         : o == Outcome::kInvalidArgument ? "std::invalid_argument"
                                          : "std::runtime_error";
}
/// A set of outcomes.
unsigned operator|(Outcome a, Outcome b) { return static_cast<unsigned>(a) | static_cast<unsigned>(b); }
std::string names_of(unsigned allowed) {
  std::string s;
  for (Outcome o : {Outcome::kSuccess, Outcome::kInvalidArgument, Outcome::kRuntimeError})
    if (allowed & static_cast<unsigned>(o)) s += (s.empty() ? "" : " or ") + std::string(name_of(o));
  return s;
}

std::string describe(const Case& c, const ps::ResizePadGeometry& g, const Logits& seg, const Logits& prt) {
  char buf[1024];
  auto view = [](const ps::FloatTensorView& v) {
    char b[320];
    std::snprintf(b, sizeof b,
                  "shape (%lld, %lld, %lld) strides (%lld, %lld, %lld) extent %lld data_offset %lld device %d/%d%s",
                  (long long)v.height, (long long)v.width, (long long)v.channels, (long long)v.stride_height,
                  (long long)v.stride_width, (long long)v.stride_channels, (long long)v.extent,
                  (long long)v.data_offset, (int)v.device, (int)v.device_id, v.data ? "" : " data=null");
    return std::string(b);
  };
  std::snprintf(buf, sizeof buf, "threshold %g flip %d num_threads %d compute_device %d null_out %d",
                static_cast<double>(c.threshold), c.flip ? 1 : 0, c.num_threads, c.compute_device, c.null_out ? 1 : 0);
  return ps::to_string(g) + "\n  segment_logits: " + view(seg.view) + "\n  part_logits: " + view(prt.view) + "\n  " +
         buf;
}

bool g_verbose = false;  // print every case (--verbose)

// Where a failing case came from, for the report (set by the driver).
uint64_t g_seed = 0;
int64_t g_case = -1;
const uint8_t* g_bytes = nullptr;
size_t g_size = 0;
std::string g_crash_file;

void save_input() {
  if (g_bytes == nullptr || g_crash_file.empty()) return;
  if (FILE* f = std::fopen(g_crash_file.c_str(), "wb")) {
    std::fwrite(g_bytes, 1, g_size, f);
    std::fclose(f);
    std::fprintf(stderr, "fuzz_postprocess: input saved to %s (rerun: fuzz_postprocess %s)\n", g_crash_file.c_str(),
                 g_crash_file.c_str());
  }
}

void report_origin() {
  if (g_case >= 0)
    std::fprintf(stderr, "fuzz_postprocess: failing case %lld of --seed %llu (rerun: --seed %llu --case %lld)\n",
                 (long long)g_case, (unsigned long long)g_seed, (unsigned long long)g_seed, (long long)g_case);
  save_input();
}

[[noreturn]] void finding(const std::string& what, const std::string& details) {
  std::fprintf(stderr, "fuzz_postprocess: FINDING: %s\n  %s\n", what.c_str(), details.c_str());
  report_origin();
  std::fflush(stderr);
  std::abort();
}

struct Stats {
  uint64_t cases = 0, success = 0, invalid_argument = 0, runtime_error = 0, geometry_rejected = 0;
  uint64_t model_inputs = 0;  // pre-processing outputs checked
} g_stats;

/// Calls `f` and checks that its outcome is one of `allowed` (a set of Outcome bits).
template <typename F>
Outcome call(const char* what, unsigned allowed, const std::string& details, const F& f) {
  Outcome got = Outcome::kSuccess;
  std::string message;
  try {
    f();
  } catch (const std::invalid_argument& e) {
    got = Outcome::kInvalidArgument;
    message = e.what();
  } catch (const std::runtime_error& e) {
    got = Outcome::kRuntimeError;
    message = e.what();
  } catch (const std::exception& e) {
    finding(std::string(what) + " threw an unexpected exception: " + e.what(), details);
  }
  if (!(allowed & static_cast<unsigned>(got)))
    finding(std::string(what) + ": expected " + names_of(allowed) + ", got " + name_of(got) +
                (message.empty() ? "" : " (" + message + ")"),
            details);
  if (got != Outcome::kSuccess && message.empty())
    finding(std::string(what) + ": an exception with no message", details);
  ++(got == Outcome::kSuccess           ? g_stats.success
     : got == Outcome::kInvalidArgument ? g_stats.invalid_argument
                                        : g_stats.runtime_error);
  return got;
}

void check_outputs(const std::vector<uint8_t>& mask, const std::vector<int32_t>* parts, int64_t num_parts,
                   const std::string& details) {
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] > 1)
      finding("mask pixel " + std::to_string(i) + " not written or not 0/1: " + std::to_string(mask[i]), details);
  if (parts == nullptr) return;
  for (size_t i = 0; i < parts->size(); ++i) {
    const int32_t p = (*parts)[i];
    if (p < -1 || p >= num_parts)
      finding("part pixel " + std::to_string(i) + " out of range: " + std::to_string(p), details);
    if ((p != -1) != (mask[i] == 1)) finding("mask and part map disagree at pixel " + std::to_string(i), details);
  }
}

// ---- pre-processing ------------------------------------------------------------------------

/// An image view over fresh memory laid out as `spec` says (uint8 or float32 pixels; a raw
/// pixel type of neither is given uint8 memory).
struct Image {
  std::vector<uint8_t> bytes;
  std::vector<float> floats;
  ps::ImageView view;
  bool backed = false;
};

float pixel(uint64_t& state, uint8_t mode) {
  const uint64_t r = splitmix64(state);
  switch (mode % 4) {
    case 0:
      return static_cast<float>((r >> 24) % 256);  // the integers a uint8 image holds
    case 1: {                                      // out of range and non-finite now and then
      if ((r & 7) != 0) return static_cast<float>(r >> 40) / 16777216.0f * 255.0f;
      static const float kSpecial[] = {std::numeric_limits<float>::quiet_NaN(),
                                       -std::numeric_limits<float>::quiet_NaN(),
                                       std::numeric_limits<float>::infinity(),
                                       -std::numeric_limits<float>::infinity(),
                                       std::numeric_limits<float>::max(),
                                       -std::numeric_limits<float>::max(),
                                       std::numeric_limits<float>::denorm_min(),
                                       -0.0f,
                                       -1.0f,
                                       255.0f,
                                       255.00002f,
                                       256.0f,
                                       1e30f,
                                       -1e-30f};
      return kSpecial[(r >> 4) % std::size(kSpecial)];
    }
    case 2:
      return float_of_bits(static_cast<uint32_t>(r));  // any bits
    default:
      return static_cast<float>(r >> 40) / 16777216.0f * 255.0f;
  }
}

Image make_image(const ViewSpec& spec, int32_t type, uint64_t seed, uint8_t mode) {
  Image t;
  ps::ImageView& v = t.view;
  v.type = static_cast<ps::PixelType>(type);
  set_shape(v, spec);
  __int128 below = 0, above = 0;  // (a view with a non-positive size addresses nothing)
  if (spec.h >= 1 && spec.w >= 1 && spec.c >= 1) reach(v, &below, &above);
  const __int128 span = below + above + 1;
  const bool fits =
      spec.h >= 1 && spec.w >= 1 && spec.c >= 1 && span + spec.slack_before + spec.slack_after <= kMaxBuffer;
  const size_t size = fits ? static_cast<size_t>(span + spec.slack_before + spec.slack_after) : 16;
  const int64_t data_index = fits ? spec.slack_before + static_cast<int64_t>(below) : 8;
  t.backed = fits;
  uint64_t state = seed;
  const bool is_float = v.type == ps::PixelType::kFloat32;
  if (is_float) {
    t.floats.resize(size);
    for (float& x : t.floats) x = pixel(state, mode);
    v.data = t.floats.data() + data_index;
  } else {
    t.bytes.resize(size);
    for (uint8_t& x : t.bytes) x = static_cast<uint8_t>(splitmix64(state));
    v.data = t.bytes.data() + data_index;
  }
  const Bounds bounds = declared_bounds(spec, t.backed, below, above, static_cast<int64_t>(size), data_index);
  v.extent = bounds.extent;
  v.data_offset = bounds.data_offset;
  if (bounds.null) v.data = nullptr;
  return t;
}

/// Whether resize_pad_normalize must accept `v` for geometry `g` (a valid one): the
/// documented rules, restated.
bool image_valid(const ps::ImageView& v, const ps::ResizePadGeometry& g) {
  if (v.type != ps::PixelType::kUint8 && v.type != ps::PixelType::kFloat32) return false;
  if (v.data == nullptr) return false;
  if (v.height != g.image_height || v.width != g.image_width || v.channels != 3) return false;
  return addressable(v, kI64Max / (v.type == ps::PixelType::kUint8 ? 1 : 4));  // in bytes: within ptrdiff_t
}

/// The pixels of a backed view as a C-contiguous (h, w, 3) copy, uint8 or float32.
template <typename T>
std::vector<T> gather_pixels(const ps::ImageView& v) {
  std::vector<T> out(static_cast<size_t>(v.height * v.width * 3));
  const T* data = static_cast<const T*>(v.data);
  size_t i = 0;
  for (int64_t y = 0; y < v.height; ++y)
    for (int64_t x = 0; x < v.width; ++x)
      for (int64_t k = 0; k < 3; ++k) out[i++] = data[y * v.stride_height + x * v.stride_width + k * v.stride_channels];
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::string describe_image(const ps::ImageView& v, const ps::ResizePadGeometry& g, bool flip, int32_t threads) {
  char b[400];
  std::snprintf(b, sizeof b,
                "image type %d shape (%lld, %lld, %lld) strides (%lld, %lld, %lld) extent %lld data_offset %lld%s; "
                "flip %d num_threads %d",
                static_cast<int>(v.type), (long long)v.height, (long long)v.width, (long long)v.channels,
                (long long)v.stride_height, (long long)v.stride_width, (long long)v.stride_channels,
                (long long)v.extent, (long long)v.data_offset, v.data ? "" : " data=null", flip ? 1 : 0, threads);
  return ps::to_string(g) + "\n  " + b;
}

void run_preprocess(const Case& c, const ps::ResizePadGeometry& g, bool geometry_ok) {
  const int64_t model_pixels = geometry_ok ? int64_t{g.model_height} * g.model_width : 0;
  if (model_pixels > kMaxModelPixels) return;  // valid but too slow to write here
  ViewSpec spec;
  spec.h = g.image_height, spec.w = g.image_width, spec.c = 3;  // the geometry's image, unless the case says otherwise
  int64_t* sides[3] = {&spec.h, &spec.w, &spec.c};
  switch (c.image_shape) {
    case kChannels:
      spec.c = c.shape_value;
      break;
    case kOffBy:
      *sides[c.shape_axis] += c.shape_value;
      break;
    case kSpecialSide:
      *sides[c.shape_axis] = c.shape_value;
      break;
    case kSmall:
      spec.h = c.shape_axis, spec.w = c.shape_value;
      break;
    default:
      break;
  }
  Input layout(c.image_layout, sizeof c.image_layout);
  choose_strides(layout, spec);
  choose_memory(layout, spec);
  const Image image = make_image(spec, c.pixel_type, c.value_seed ^ 0x3333333333333333ull, c.pixel_mode);
  ps::PreprocessOptions options;
  options.flip_horizontal = c.pre_flip;
  options.num_threads = c.pre_threads;
  const bool valid = geometry_ok && image_valid(image.view, g) && c.pre_threads >= 0 && !c.null_out;
  if (valid && !image.backed) finding("fuzzer bug: a valid image without memory", "");
  const size_t values = valid ? static_cast<size_t>(model_pixels) * 3 : 16;
  std::vector<float> out(values, std::numeric_limits<float>::quiet_NaN());
  const std::string details = describe_image(image.view, g, c.pre_flip, c.pre_threads);
  if (g_verbose) std::printf("case %lld (pre-processing): %s\n", (long long)g_case, details.c_str());
  const Outcome o =
      call("resize_pad_normalize", static_cast<unsigned>(valid ? Outcome::kSuccess : Outcome::kInvalidArgument),
           details, [&] { ps::resize_pad_normalize(image.view, g, options, c.null_out ? nullptr : out.data()); });
  if (o != Outcome::kSuccess) return;
  ++g_stats.model_inputs;

  // Every value written, in range; the padding exactly the normalised zero pixel.
  const int32_t mh = g.model_height, mw = g.model_width;
  for (int32_t y = 0; y < mh; ++y)
    for (int32_t x = 0; x < mw; ++x) {
      const bool pad =
          y < g.pad_top || y >= g.pad_top + g.resized_height || x < g.pad_left || x >= g.pad_left + g.resized_width;
      for (int k = 0; k < 3; ++k) {
        const float v = out[(static_cast<size_t>(y) * mw + x) * 3 + k];
        if (!(v >= -1.0f && v <= 1.0f))
          finding("model input (" + std::to_string(y) + ", " + std::to_string(x) + ", " + std::to_string(k) +
                      ") not written or out of [-1, 1]: " + std::to_string(v),
                  details);
        if (pad && v != -1.0f)
          finding("padding (" + std::to_string(y) + ", " + std::to_string(x) + ") is not -1: " + std::to_string(v),
                  details);
      }
    }

  auto again = [&](const ps::ImageView& view, const ps::PreprocessOptions& opts, const char* what) {
    std::vector<float> other(values, std::numeric_limits<float>::quiet_NaN());
    ps::resize_pad_normalize(view, g, opts, other.data());
    if (!same_bits(other, out)) finding(std::string("resize_pad_normalize differs ") + what, details);
  };
  const bool is_float = image.view.type == ps::PixelType::kFloat32;
  const int64_t h = image.view.height, w = image.view.width;
  if (c.pre_checks & 1) {  // a contiguous copy
    if (is_float) {
      const std::vector<float> copy = gather_pixels<float>(image.view);
      again(ps::ImageView::contiguous(copy.data(), ps::PixelType::kFloat32, h, w), options, "on a contiguous copy");
    } else {
      const std::vector<uint8_t> copy = gather_pixels<uint8_t>(image.view);
      again(ps::ImageView::contiguous(copy.data(), ps::PixelType::kUint8, h, w), options, "on a contiguous copy");
    }
  }
  if (c.pre_checks & 2) {  // the thread count does not change the values
    ps::PreprocessOptions other = options;
    other.num_threads = options.num_threads == 1 ? 3 : 1;
    again(image.view, other, "with another thread count");
  }
  if ((c.pre_checks & 4) && w > 1) {  // flip_horizontal == the mirrored view without it
    ps::ImageView mirrored = image.view;
    const int64_t shift = (w - 1) * image.view.stride_width;
    mirrored.data = static_cast<const uint8_t*>(image.view.data) + shift * (is_float ? 4 : 1);
    mirrored.stride_width = -image.view.stride_width;
    if (mirrored.extent != -1) {
      mirrored.data_offset += shift;
    } else if (shift != 0) {  // an unknown extent must come with data_offset 0: declare the real one
      const int64_t index = is_float ? static_cast<const float*>(mirrored.data) - image.floats.data()
                                     : static_cast<const uint8_t*>(mirrored.data) - image.bytes.data();
      mirrored.data_offset = index;
      mirrored.extent = static_cast<int64_t>(is_float ? image.floats.size() : image.bytes.size());
    }
    ps::PreprocessOptions flipped = options;
    flipped.flip_horizontal = !options.flip_horizontal;
    again(mirrored, flipped, "between flip_horizontal and the mirrored image");
  }
  if ((c.pre_checks & 8) && !is_float) {  // uint8 pixels given as float32
    const std::vector<uint8_t> copy = gather_pixels<uint8_t>(image.view);
    const std::vector<float> as_float(copy.begin(), copy.end());
    again(ps::ImageView::contiguous(as_float.data(), ps::PixelType::kFloat32, h, w), options,
          "on the same pixels as float32");
  }
}

bool cuda_usable() {
  static const bool usable = ps::cuda_compiled() && ps::cuda_device_count() > 0;
  return usable;
}

void run_case(Case c) {
  ++g_stats.cases;
  ps::ResizePadGeometry g = c.raw;
  if (c.compute) {
    const bool args_ok = c.args[0] >= 1 && c.args[0] <= 65536 && c.args[1] >= 1 && c.args[1] <= 65536 &&
                         c.args[2] >= 1 && c.args[2] <= 65536 && c.args[3] >= 1 && c.args[3] <= 65536;
    const std::string details = "compute_geometry(" + std::to_string(c.args[0]) + ", " + std::to_string(c.args[1]) +
                                ", " + std::to_string(c.args[2]) + ", " + std::to_string(c.args[3]) + ")";
    const Outcome o =
        call("compute_geometry", static_cast<unsigned>(args_ok ? Outcome::kSuccess : Outcome::kInvalidArgument),
             details, [&] { g = ps::compute_geometry(c.args[0], c.args[1], c.args[2], c.args[3]); });
    if (o != Outcome::kSuccess) {
      ++g_stats.geometry_rejected;
      return;
    }
    if (!geometry_valid(g)) finding("compute_geometry returned an invalid geometry", ps::to_string(g));
    bool validated = true;
    try {
      ps::validate_geometry(g);
    } catch (const std::invalid_argument&) {
      validated = false;
    }
    if (!validated) finding("validate_geometry rejects what compute_geometry returned", ps::to_string(g));
    if (c.perturb_field >= 0) {
      int32_t& f = *geometry_field(g, c.perturb_field);
      const bool delta = c.perturb_value >= -2 && c.perturb_value <= 2;
      f = delta ? static_cast<int32_t>(std::clamp<int64_t>(int64_t{f} + c.perturb_value, kI32Min, kI32Max))
                : c.perturb_value;
    }
  }
  const bool geometry_ok = geometry_valid(g);
  {
    bool accepted = true;
    try {
      ps::validate_geometry(g);
    } catch (const std::invalid_argument&) {
      accepted = false;
    }
    if (accepted != geometry_ok)
      finding(std::string("validate_geometry ") + (accepted ? "accepts" : "rejects") + " this geometry",
              ps::to_string(g));
  }

  // Keep each case fast (inputs stay valid: the image size is free in a valid geometry).
  ViewSpec& ps_ = c.parts;
  const bool many_parts = ps_.c > 64 && ps_.c <= kMaxPartChannels;
  if (many_parts) {  // the per-pixel argmax and buffers scale with the parts
    c.segment.h = ps_.h = std::min<int64_t>(c.segment.h, 8);
    c.segment.w = ps_.w = std::min<int64_t>(c.segment.w, 8);
  }
  if (geometry_ok) {
    const int64_t max_pixels = many_parts ? 4096 : c.large ? kMaxPixelsLarge : kMaxPixels;
    int64_t h = g.image_height, w = g.image_width;
    if (h * w > max_pixels) h = std::max<int64_t>(1, max_pixels / w);
    if (h * w > max_pixels) w = max_pixels / h;
    // Stage 1 runs per crop row used (at most two per output row, each once when upsampling):
    // the segment on every crop column, the parts on the columns person pixels use.
    const int64_t parts_c = ps_.c >= 1 && ps_.c <= kMaxPartChannels ? ps_.c : 1;
    const int64_t per_row = g.resized_width + std::min<int64_t>(2 * w, g.resized_width) * parts_c;
    auto crop_rows = [&](int64_t rows) {
      return std::min<int64_t>(2 * rows, 2 * int64_t{g.resized_height} + rows / 8 + 2);
    };
    while (h > 1 && crop_rows(h) * per_row > kMaxStage1) h = h / 2;
    g.image_height = static_cast<int32_t>(h);
    g.image_width = static_cast<int32_t>(w);
  }
  run_preprocess(c, g, geometry_ok);

  // Host memory must not be labelled as CUDA memory where a CUDA device would read it.
  if (cuda_usable()) {
    if (c.segment.device == 1) c.segment.device = 0, c.segment.device_id = 0;
    if (c.parts.device == 1) c.parts.device = 0, c.parts.device_id = 0;
  }

  const Logits seg = make_logits(c.segment, c.value_seed, c.value_mode);
  const Logits prt = make_logits(c.parts, c.value_seed ^ 0x5555555555555555ull, c.value_mode >> 3);
  ps::PostprocessOptions options;
  options.segmentation_threshold = c.threshold;
  options.flip_horizontal = c.flip;
  options.num_threads = c.num_threads;
  options.compute_device = static_cast<ps::Device>(c.compute_device);

  const bool seg_ok = view_valid(seg.view, 1);
  const bool prt_ok = view_valid(prt.view, kMaxPartChannels);
  if ((seg_ok && !seg.backed) || (prt_ok && !prt.backed)) finding("fuzzer bug: a valid view without memory", "");
  const bool options_ok =
      !std::isnan(c.threshold) && c.num_threads >= 0 && (c.compute_device == 0 || c.compute_device == 1);
  const bool mask_valid = seg_ok && geometry_ok && options_ok && !c.null_out && seg.view.height <= g.model_height &&
                          seg.view.width <= g.model_width;
  const bool parts_valid = mask_valid && prt_ok && prt.view.height == seg.view.height &&
                           prt.view.width == seg.view.width && prt.view.device == seg.view.device &&
                           prt.view.device_id == seg.view.device_id;
  const bool cuda = seg.view.device == ps::Device::kCuda || c.compute_device == 1;
  // Invalid -> invalid_argument; valid -> success, except that a CUDA request throws
  // runtime_error without CUDA, and with CUDA may also fail (its own limits, its errors).
  auto expectation = [&](bool valid) -> unsigned {
    if (!valid) return static_cast<unsigned>(Outcome::kInvalidArgument);
    if (!cuda) return static_cast<unsigned>(Outcome::kSuccess);
    if (!cuda_usable()) return static_cast<unsigned>(Outcome::kRuntimeError);
    return Outcome::kSuccess | Outcome::kInvalidArgument | static_cast<unsigned>(Outcome::kRuntimeError);
  };

  const size_t pixels = geometry_ok ? static_cast<size_t>(g.image_height) * static_cast<size_t>(g.image_width) : 1;
  std::vector<uint8_t> mask(pixels, uint8_t{0xAB});
  std::vector<int32_t> part_map(pixels, int32_t{0x7EADBEEF});
  const std::string details = describe(c, g, seg, prt);
  if (g_verbose) std::printf("case %lld: %s\n", (long long)g_case, details.c_str());

  const Outcome mask_outcome = call("person_mask", expectation(mask_valid), details,
                                    [&] { ps::person_mask(seg.view, g, options, c.null_out ? nullptr : mask.data()); });
  const Outcome parts_outcome = call("part_segmentation", expectation(parts_valid), details, [&] {
    ps::part_segmentation(seg.view, prt.view, g, options, c.null_out ? nullptr : part_map.data());
  });
  if (mask_outcome != Outcome::kSuccess) return;
  check_outputs(mask, parts_outcome == Outcome::kSuccess ? &part_map : nullptr, prt.view.channels, details);

  // Differential checks on a share of the cases.
  const bool with_parts = parts_outcome == Outcome::kSuccess;
  if (c.extra_checks & 1) {  // a contiguous copy of the logits gives the same result
    const std::vector<float> seg_copy = gather(seg.view);
    ps::FloatTensorView seg_view = ps::FloatTensorView::contiguous(seg_copy.data(), seg.view.height, seg.view.width, 1);
    seg_view.extent = static_cast<int64_t>(seg_copy.size());
    std::vector<uint8_t> mask2(pixels, uint8_t{0xAB});
    ps::person_mask(seg_view, g, options, mask2.data());
    if (mask2 != mask) finding("person_mask differs on a contiguous copy of the logits", details);
    if (with_parts) {
      const std::vector<float> prt_copy = gather(prt.view);
      const auto prt_view =
          ps::FloatTensorView::contiguous(prt_copy.data(), prt.view.height, prt.view.width, prt.view.channels);
      std::vector<int32_t> parts2(pixels, int32_t{0x7EADBEEF});
      ps::part_segmentation(seg_view, prt_view, g, options, parts2.data());
      if (parts2 != part_map) finding("part_segmentation differs on a contiguous copy of the logits", details);
    }
  }
  if ((c.extra_checks & 2) && !cuda) {  // the thread count does not change the result
    ps::PostprocessOptions one = options;
    one.num_threads = options.num_threads == 1 ? 3 : 1;
    std::vector<uint8_t> mask2(pixels, uint8_t{0xAB});
    ps::person_mask(seg.view, g, one, mask2.data());
    if (mask2 != mask) finding("person_mask depends on num_threads", details);
    if (with_parts) {
      std::vector<int32_t> parts2(pixels, int32_t{0x7EADBEEF});
      ps::part_segmentation(seg.view, prt.view, g, one, parts2.data());
      if (parts2 != part_map) finding("part_segmentation depends on num_threads", details);
    }
  }
  if ((c.extra_checks & 4) && pixels <= 4096) {  // the per-pixel evaluation (what the CUDA kernels run)
    const int32_t gh = static_cast<int32_t>(seg.view.height), gw = static_cast<int32_t>(seg.view.width);
    const bool direct_parts = with_parts && prt.view.channels <= ps::direct::kMaxDirectParts;
    const int32_t np = direct_parts ? static_cast<int32_t>(prt.view.channels) : 0;
    const ps::direct::Sampling s = ps::direct::make_sampling(gh, gw, np, g);
    std::vector<float> scores(static_cast<size_t>(gh) * gw * (np + 1));
    for (int64_t y = 0; y < gh; ++y)
      for (int64_t x = 0; x < gw; ++x) {
        float* dst = scores.data() + (y * gw + x) * (np + 1);
        dst[np] = ps::pixel::score_of_logit(seg.view.data[y * seg.view.stride_height + x * seg.view.stride_width]);
        for (int64_t k = 0; k < np; ++k)
          dst[k] = ps::pixel::score_of_logit(
              prt.view.data[y * prt.view.stride_height + x * prt.view.stride_width + k * prt.view.stride_channels]);
      }
    for (int32_t y = 0; y < g.image_height; ++y)
      for (int32_t x = 0; x < g.image_width; ++x) {
        const size_t i = static_cast<size_t>(y) * g.image_width + ps::pixel::output_column(x, g.image_width, c.flip);
        if (ps::direct::mask_at(scores.data(), s, y, x, c.threshold) != mask[i])
          finding("person_mask differs from the per-pixel evaluation at (" + std::to_string(y) + ", " +
                      std::to_string(x) + ")",
                  details);
        if (direct_parts && ps::direct::part_at(scores.data(), s, y, x, c.threshold) != part_map[i])
          finding("part_segmentation differs from the per-pixel evaluation at (" + std::to_string(y) + ", " +
                      std::to_string(x) + ")",
                  details);
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  run_case(decode(in));
  return 0;
}

#if !defined(PERSON_SEGMENTATION_LIBFUZZER)
namespace {

ViewSpec contiguous_spec(int64_t h, int64_t w, int64_t c) {
  ViewSpec v;
  v.h = h;
  v.w = w;
  v.c = c;
  v.stride[0] = w * c;
  v.stride[1] = c;
  v.stride[2] = 1;
  return v;
}

Case simple_case(int32_t image_h, int32_t image_w, int64_t gh, int64_t gw, int64_t parts) {
  Case c;
  c.args[0] = image_h;
  c.args[1] = image_w;
  c.segment = contiguous_spec(gh, gw, 1);
  c.parts = contiguous_spec(gh, gw, parts);
  c.value_seed = static_cast<uint64_t>(image_h) * 7919u + static_cast<uint64_t>(image_w);
  c.extra_checks = 7;
  c.large = true;
  c.pre_checks = 15;
  return c;
}

/// Handcrafted edge cases, run before the random ones.
std::vector<Case> edge_cases() {
  std::vector<Case> cases;
  auto add = [&](Case c) { cases.push_back(c); };
  add(simple_case(480, 640, 23, 17, 24));  // BodyPix, the usual sizes
  add(simple_case(1, 1, 23, 17, 24));
  add(simple_case(1, 4096, 23, 17, 24));
  add(simple_case(4096, 1, 23, 17, 24));
  add(simple_case(3, 4096, 45, 33, 24));
  add(simple_case(4096, 64, 1, 1, 1));      // a 1x1 grid
  add(simple_case(65536, 1, 23, 17, 3));    // the largest side
  add(simple_case(353, 257, 353, 257, 2));  // grid as large as the model input
  {
    Case c = simple_case(100, 80, 23, 17, 24);
    c.segment.stride[0] = -17, c.segment.stride[1] = -1;  // negative strides, exact extent
    c.parts.stride[0] = -17 * 24, c.parts.stride[1] = -24, c.parts.stride[2] = -1;
    add(c);
    c.segment.memory = c.parts.memory = Memory::kUnknown;
    add(c);
    c.segment.memory = c.parts.memory = Memory::kShortStart;  // one element short at the start
    add(c);
  }
  {
    Case c = simple_case(50, 70, 23, 17, 24);
    c.segment.stride[0] = c.segment.stride[1] = 0;  // broadcast
    c.parts.stride[0] = c.parts.stride[1] = c.parts.stride[2] = 0;
    add(c);
    c.segment.memory = Memory::kShortEnd;
    add(c);
  }
  {
    Case c = simple_case(50, 70, 1, 17, 24);  // a size-1 axis: its stride is never used
    c.segment.stride[0] = kI64Min;
    c.parts.stride[0] = kI64Max;
    add(c);
    c.segment.h = c.parts.h = 2;  // now it is: too large
    add(c);
  }
  for (int64_t stride : {kStrideLimit, kStrideLimit + 1, -kStrideLimit, -kStrideLimit - 1, kI64Min}) {
    Case c = simple_case(20, 20, 2, 1, 24);
    c.segment.stride[0] = stride;
    add(c);
  }
  {
    Case c = simple_case(20, 20, 2, 3, 24);
    c.segment.stride[0] = kStrideLimit / 2, c.segment.stride[1] = kStrideLimit / 4;  // sum just inside
    add(c);
    c.segment.stride[1] = kStrideLimit / 4 + 2;  // sum just outside
    add(c);
  }
  for (uint8_t n = 0; n < 6; ++n) {
    Case c = simple_case(20, 20, 5, 5, 24);
    c.parts.memory = Memory::kNonsense;
    c.parts.nonsense = n;
    add(c);
  }
  for (float t : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), -1.0f, 2.0f}) {
    Case c = simple_case(30, 40, 23, 17, 24);
    c.threshold = t;
    add(c);
  }
  for (int32_t n : {-1, kI32Min, kI32Max, 8}) {
    Case c = simple_case(300, 400, 23, 17, 24);
    c.num_threads = n;
    add(c);
  }
  for (int32_t d : {1, 2, -1, kI32Min}) {
    Case c = simple_case(30, 40, 23, 17, 24);
    c.compute_device = d;
    add(c);
    c.compute_device = 0;
    c.segment.device = c.parts.device = d;
    add(c);
  }
  {
    Case c = simple_case(30, 40, 23, 17, 24);
    c.segment.device_id = c.parts.device_id = 1;  // a CPU tensor on "device 1"
    add(c);
    c = simple_case(30, 40, 23, 17, 24);
    c.null_out = true;
    add(c);
    c = simple_case(30, 40, 23, 17, 24);
    c.segment.memory = Memory::kNull;
    add(c);
    c = simple_case(30, 40, 23, 17, 24);
    c.parts.h = 22;  // grids differ
    add(c);
    c = simple_case(30, 40, 23, 17, 1024);
    add(c);
    c = simple_case(30, 40, 23, 17, 1025);
    add(c);
    c = simple_case(30, 40, 23, 17, 24);
    c.segment.c = 2;
    add(c);
    c = simple_case(30, 40, 400, 17, 24);  // grid taller than the model input
    add(c);
  }
  {  // pre-processing
    Case c = simple_case(480, 640, 23, 17, 24);
    c.pixel_type = 1;  // float32 pixels, with NaN, infinities and out-of-range values
    c.pixel_mode = 1;
    add(c);
    c.pixel_mode = 2;  // any bits
    c.pre_flip = true;
    c.pre_threads = 0;
    add(c);
    for (int32_t type : {2, -1, kI32Max}) {
      c.pixel_type = type;
      add(c);
    }
    c = simple_case(480, 640, 23, 17, 24);
    for (int64_t channels : {int64_t{1}, int64_t{4}, int64_t{0}, kI64Max}) {
      c.image_shape = kChannels;
      c.shape_value = channels;
      add(c);
    }
    c = simple_case(480, 640, 23, 17, 24);
    c.image_shape = kOffBy;
    c.shape_value = 1;
    add(c);
    c = simple_case(3, 4096, 23, 17, 24);
    c.pre_threads = -1;
    add(c);
    c = simple_case(1, 1, 23, 17, 24);
    c.image_layout[0] = 3;  // negative strides
    add(c);
  }
  for (int32_t v : {0, -1, 65537, kI32Max, kI32Min}) {
    Case c = simple_case(v, 40, 23, 17, 24);  // compute_geometry rejects these
    add(c);
    c = simple_case(30, 40, 23, 17, 24);
    c.args[2] = v;
    add(c);
  }
  for (int field = 0; field < 10; ++field) {
    for (int32_t v : {kI32Max, kI32Min, -1, 65537}) {
      Case c = simple_case(30, 40, 23, 17, 24);
      c.perturb_field = field;
      c.perturb_value = v;
      add(c);
    }
  }
  {
    Case c = simple_case(1, 1, 23, 17, 24);  // a huge model input, a 1x1 image
    c.compute = false;
    c.raw = ps::ResizePadGeometry{1, 1, 65536, 65536, 65536, 65536, 0, 0, 0, 0};
    add(c);
    c.raw = ps::ResizePadGeometry{1, 1, 65536, 65536, 65535, 1, 1, 0, 65535, 0};
    add(c);
    // Fields whose sums overflow int32.
    c.raw = ps::ResizePadGeometry{10, 10, kI32Max, kI32Max, kI32Max, kI32Max, kI32Max, 2, kI32Max, 2};
    add(c);
    c.raw = ps::ResizePadGeometry{10, 10, 353, 257, kI32Max, 257, kI32Min + 353, 1, 0, 0};
    add(c);
  }
  return cases;
}

volatile std::sig_atomic_t g_signal_case_known = 0;
char g_signal_note[160];

extern "C" void on_fatal_signal(int sig) {
#if defined(PS_FUZZ_POSIX)
  if (g_signal_case_known) {
    const char* prefix = "fuzz_postprocess: crashed in ";
    (void)!write(2, prefix, std::strlen(prefix));
    (void)!write(2, g_signal_note, std::strlen(g_signal_note));
  }
#endif
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void set_signal_note() {
  std::snprintf(g_signal_note, sizeof g_signal_note, "case %lld of --seed %llu\n", (long long)g_case,
                (unsigned long long)g_seed);
  g_signal_case_known = 1;
}

std::vector<uint8_t> random_input(uint64_t seed, int64_t index) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ull + 1;
  const uint64_t r = splitmix64(state);
  const size_t size = (r & 7) == 0 ? static_cast<size_t>(r >> 8) % 64 : 96 + static_cast<size_t>(r >> 8) % 224;
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t v = splitmix64(state);
    for (size_t j = 0; j < 8 && i + j < size; ++j) bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return bytes;
}

int usage() {
  std::fprintf(stderr,
               "usage: fuzz_postprocess [--seconds S] [--seed N] [--case I] [--max-cases N] [--verbose] [FILE...]\n"
               "  runs the edge cases, then random cases of seed N for S seconds (default 10);\n"
               "  --case I: only random case I; FILE: run that input (e.g. a saved failing case)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  uint64_t seed = 1;
  int64_t only_case = -1;
  uint64_t max_cases = std::numeric_limits<uint64_t>::max();
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--seconds" && (v = value()))
      seconds = std::atof(v);
    else if (a == "--seed" && (v = value()))
      seed = std::strtoull(v, nullptr, 10);
    else if (a == "--case" && (v = value()))
      only_case = std::strtoll(v, nullptr, 10);
    else if (a == "--max-cases" && (v = value()))
      max_cases = std::strtoull(v, nullptr, 10);
    else if (a == "--verbose")
      g_verbose = true;
    else if (!a.empty() && a[0] != '-')
      files.push_back(a);
    else
      return usage();
  }
#if defined(PS_FUZZ_ASAN)
  __sanitizer_set_death_callback([] { report_origin(); });
#else
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_fatal_signal);
#endif
  g_seed = seed;

  if (!files.empty()) {
    for (const std::string& f : files) {
      std::ifstream s(f, std::ios::binary);
      if (!s) {
        std::fprintf(stderr, "fuzz_postprocess: cannot read %s\n", f.c_str());
        return 2;
      }
      const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      std::printf("fuzz_postprocess: %s ok\n", f.c_str());
    }
    return 0;
  }

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double slowest = 0;
  int64_t slowest_case = -1;
  uint64_t edge = 0;
  if (only_case < 0) {
    for (const Case& c : edge_cases()) {
      g_case = -1;
      run_case(c);
      ++edge;
    }
  }
  const uint64_t after_edge = g_stats.cases;
  int64_t index = only_case >= 0 ? only_case : 0;
  for (; g_stats.cases - after_edge < max_cases; ++index) {
    if (only_case < 0 && elapsed() >= seconds) break;
    const std::vector<uint8_t> bytes = random_input(seed, index);
    g_case = index;
    g_bytes = bytes.data();
    g_size = bytes.size();
    g_crash_file = "fuzz_postprocess-crash-" + std::to_string(seed) + "-" + std::to_string(index) + ".bin";
    set_signal_note();
    const double t0 = elapsed();
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    const double dt = elapsed() - t0;
    if (dt > slowest) slowest = dt, slowest_case = index;
    g_bytes = nullptr;
    if (only_case >= 0) break;
  }
  std::printf(
      "fuzz_postprocess: seed %llu: %llu cases (%llu edge + %llu random) in %.1f s; calls: %llu succeeded, "
      "%llu std::invalid_argument, %llu std::runtime_error; %llu geometries rejected by compute_geometry; "
      "%llu model inputs checked; slowest case %lld (%.3f s); no findings\n",
      (unsigned long long)seed, (unsigned long long)g_stats.cases, (unsigned long long)edge,
      (unsigned long long)(g_stats.cases - after_edge), elapsed(), (unsigned long long)g_stats.success,
      (unsigned long long)g_stats.invalid_argument, (unsigned long long)g_stats.runtime_error,
      (unsigned long long)g_stats.geometry_rejected, (unsigned long long)g_stats.model_inputs, (long long)slowest_case,
      slowest);
  return 0;
}
#endif  // !PERSON_SEGMENTATION_LIBFUZZER
