// C++ unit tests of the BodyPix 2 post-processing (bodypix.hpp, pixel/bodypix_pixel.hpp), run by
// CTest (also under the ASan + UBSan build). No test framework: each check prints what failed
// and the process exits non-zero if any did. Each quirk of BodyPix 2.2.1 that spec/BODYPIX2.md
// says a port must reproduce has a test of its own name: the float32 box, the last row/column
// zero case, the instance decoder's missing lower clamp (and its NaN reads), the heap order of
// equal scores, the inclusive NMS radius, JavaScript's Math.round.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "cpu/bodypix_cpu.hpp"
#include "person_segmentation/bodypix.hpp"
#include "pixel/bodypix_pixel.hpp"
#include "pixel/preprocess_pixel.hpp"

namespace ps = person_segmentation;
namespace bp = person_segmentation::bodypix;
namespace px = person_segmentation::bodypix_pixel;

namespace {

using ps_test::check;
using ps_test::expect_invalid;

struct Heads {
  int h, w;
  std::vector<float> v;
  Heads(int h_, int w_, float fill = 0.0f) : h(h_), w(w_), v(static_cast<size_t>(h_) * w_ * bp::kHeadsChannels, fill) {}
  float& at(int y, int x, int c) { return v[(static_cast<size_t>(y) * w + x) * bp::kHeadsChannels + c]; }
  ps::FloatTensorView view() const {
    ps::FloatTensorView t = ps::FloatTensorView::contiguous(v.data(), h, w, bp::kHeadsChannels);
    t.extent = static_cast<int64_t>(v.size());
    return t;
  }
};

bp::Geometry geometry(int h, int w, int ih, int iw, int top = 0, int bottom = 0, int left = 0, int right = 0) {
  bp::Geometry g;
  g.image_height = h;
  g.image_width = w;
  g.input_height = ih;
  g.input_width = iw;
  g.pad_top = top;
  g.pad_bottom = bottom;
  g.pad_left = left;
  g.pad_right = right;
  return g;
}

void test_js_round() {
  check(px::js_round(2.5) == 3.0, "Math.round(2.5) = 3");
  check(px::js_round(-2.5) == -2.0, "Math.round(-2.5) = -2");
  check(px::js_round(0.49999999999999994) == 0.0, "Math.round(0.49999999999999994) = 0 (not floor(v + 0.5))");
  check(px::js_round(-0.5) == 0.0, "Math.round(-0.5) = -0");
  check(std::isnan(px::js_round(std::nan(""))), "Math.round(NaN) = NaN");
  check(px::js_min(std::nan(""), 3.0) != px::js_min(std::nan(""), 3.0), "Math.min(NaN, 3) = NaN");
}

// The box is a float32 tensor: its edges are float32 roundings of the float64 ratios, and the
// crop-and-resize coordinates are computed from those (not from the exact ratios).
void test_float32_box() {
  const int h = 375, w = 500, ih = 177, iw = 241, pad = 5;
  const float x1 = px::box_low(pad, w, pad);
  const float x2 = px::box_high(pad, w, pad);
  const double exact1 = 5.0 / 509.0, exact2 = 504.0 / 509.0;
  check(x1 == static_cast<float>(exact1) && static_cast<double>(x1) != exact1, "box x1 is f32(5 / 509)");
  check(x2 == static_cast<float>(exact2) && static_cast<double>(x2) != exact2, "box x2 is f32(504 / 509)");
  int differs = 0;
  for (int x = 0; x < w; ++x) {
    const px::CropSample s = px::crop_sample(x, w, x1, x2, iw);
    const double scale = ((static_cast<double>(x2) - x1) * (iw - 1)) / (w - 1);
    const double coord = static_cast<double>(x1) * (iw - 1) + x * scale;
    check(s.kind == px::kCropSample && s.frac == coord - std::floor(coord), "crop column from the float32 box");
    const double exact = exact1 * (iw - 1) + x * (((exact2 - exact1) * (iw - 1)) / (w - 1));
    differs += (exact - std::floor(exact)) != s.frac;
  }
  check(differs > 0, "the float32 box changes the sampling coordinates (a float64 box would not match)");
  (void)h;
  (void)ih;
}

// (H - 1) * ((ih - 1) / (H - 1)) > ih - 1 for H = 160, ih = 121 (and W = 216, iw = 217): the
// last row (column) is outside the image and gets the extrapolation value 0.
void test_last_row_zero() {
  check(px::crop_sample(159, 160, 0.0f, 1.0f, 121).kind == px::kCropZero, "H=160, ih=121: last row is zero");
  check(px::crop_sample(158, 160, 0.0f, 1.0f, 121).kind == px::kCropSample, "H=160, ih=121: row 158 sampled");
  check(px::crop_sample(215, 216, 0.0f, 1.0f, 217).kind == px::kCropZero, "W=216, iw=217: last column is zero");
  for (const auto& c : {std::vector<int>{160, 20, 121, 17}, std::vector<int>{20, 216, 17, 217}}) {
    Heads heads(5, 5, 8.0f);  // every score ~1
    const bp::Geometry g = geometry(c[0], c[1], c[2], c[3]);
    const size_t n = static_cast<size_t>(c[0]) * c[1];
    std::vector<uint8_t> mask(n);
    std::vector<int32_t> parts(n);
    std::vector<float> prob(n);
    bp::ScaleBackOptions o;
    o.threshold = 0.7;
    bp::scale_back(heads.view(), g, o, mask.data(), parts.data(), prob.data());
    int edge_people = 0, inner_people = 0, edge = 0;
    for (int y = 0; y < c[0]; ++y)
      for (int x = 0; x < c[1]; ++x) {
        const bool on_edge = c[0] == 160 ? y == c[0] - 1 : x == c[1] - 1;
        const size_t i = static_cast<size_t>(y) * c[1] + x;
        if (on_edge) {
          ++edge;
          edge_people += mask[i];
          check(prob[i] == 0.0f && parts[i] == -1, "last row/column: score 0, part -1");
        } else {
          inner_people += mask[i];
        }
      }
    check(edge_people == 0 && edge > 0, "no person on the zero row/column");
    check(inner_people == static_cast<int>(n) - edge, "everything else is a person");
  }
}

// The instance decoder caps y, x at H - 1, W - 1 but not at 0: a negative cx addresses the end
// of the previous row of the offset map; before the first row the read is `undefined` (NaN) and
// the pixel goes to nobody.
void test_missing_lower_clamp() {
  const int side = 33;
  Heads heads(3, 3);
  heads.at(1, 0, bp::kLongOffsetChannel + 17) = -20.0f;  // pixel (16, 0): x -> -20, cell (1, -1)
  heads.at(0, 2, bp::kLongOffsetChannel + 0) = 100.0f;   // = flat 2, end of row 0: y += 100
  heads.at(0, 0, bp::kLongOffsetChannel + 17) = -20.0f;  // pixel (0, 0): cell (0, -1) = flat -1
  std::vector<uint8_t> mask(static_cast<size_t>(side) * side, 0);
  mask[16 * side + 0] = 1;
  mask[0] = 1;
  std::vector<double> people(2 * 51, 0.0);
  people[0 * 51 + 2] = 0.9;  // person 0: nose only, where a clamped decoder would end
  people[0 * 51 + 0] = 16.0;
  people[0 * 51 + 1] = -20.0;
  people[1 * 51 + 2] = 0.9;  // person 1: where the wrap sends pixel (16, 0)
  people[1 * 51 + 0] = 116.0;
  people[1 * 51 + 1] = -20.0;
  bp::MaskView m{mask.data(), side, side, side, 1};
  std::vector<int32_t> out(mask.size(), 7);
  bp::decode_instances(heads.view(), m, people.data(), 2, geometry(side, side, side, side), 16, 1, 2, out.data());
  check(out[16 * side] == 1, "missing lower clamp: a negative cx wraps to the previous row");
  check(out[0] == -1, "a negative flat index reads NaN: nobody");
  int assigned = 0;
  for (size_t i = 0; i < out.size(); ++i) assigned += out[i] >= 0;
  check(assigned == 1, "only mask pixels are assigned");
}

// Equal scores never swap in posenet's heap (strict <), and a pop moves the last element to
// the top: candidates c0..c3 of equal score pop as c0, c3, c2, c1.
void test_heap_order_equal_scores() {
  Heads heads(9, 9);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x)
      for (int k = 0; k < 17; ++k) heads.at(y, x, bp::kHeatmapChannel + k) = -20.0f;
  const int cells[4][2] = {{2, 2}, {2, 3}, {3, 2}, {3, 3}};  // scan order
  for (const auto& c : cells) heads.at(c[0], c[1], bp::kHeatmapChannel + 0) = 1.0f;
  bp::PoseOptions o;
  o.output_stride = 16;
  o.max_detections = 10;
  o.score_threshold = 0.5;
  o.nms_radius = 1.0;
  const bp::Poses poses = bp::decode_poses(heads.view(), geometry(129, 129, 129, 129), o);
  check(poses.scores.size() == 4, "a 2 x 2 plateau gives 4 candidates (equal neighbours do not disqualify)");
  const int order[4] = {0, 3, 2, 1};
  for (size_t i = 0; i < poses.scores.size() && i < 4; ++i) {
    const double y = poses.keypoints[i * 51 + 0], x = poses.keypoints[i * 51 + 1];
    check(y == cells[order[i]][0] * 16.0 && x == cells[order[i]][1] * 16.0,
          "heap pop order of equal scores, pose " + std::to_string(i));
  }
}

void test_nms_inclusive() {
  for (const double radius : {48.0, std::nextafter(48.0, 0.0)}) {
    Heads heads(9, 9);
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 9; ++x)
        for (int k = 0; k < 17; ++k) heads.at(y, x, bp::kHeatmapChannel + k) = -20.0f;
    heads.at(2, 2, bp::kHeatmapChannel + 5) = 3.0f;
    heads.at(2, 5, bp::kHeatmapChannel + 5) = 2.0f;  // 48 px away
    bp::PoseOptions o;
    o.nms_radius = radius;
    const bp::Poses poses = bp::decode_poses(heads.view(), geometry(129, 129, 129, 129), o);
    check(poses.scores.size() == (radius == 48.0 ? 1u : 2u), "NMS: a root at exactly r is suppressed, just beyond not");
  }
}

void test_validation() {
  Heads heads(3, 4);
  const bp::Geometry g = geometry(30, 40, 33, 49, 0, 0, 2, 2);
  std::vector<uint8_t> mask(30 * 40, 1);
  std::vector<int32_t> out(30 * 40);
  bp::ScaleBackOptions so;
  expect_invalid([&] { bp::scale_back(heads.view(), g, so, nullptr, nullptr, nullptr); }, "null mask");
  so.threshold = 1.5;
  expect_invalid([&] { bp::scale_back(heads.view(), g, so, mask.data(), nullptr, nullptr); }, "threshold > 1");
  so.threshold = std::nan("");
  expect_invalid([&] { bp::scale_back(heads.view(), g, so, mask.data(), nullptr, nullptr); }, "NaN threshold");
  so.threshold = 0.5;
  ps::FloatTensorView v = heads.view();
  v.channels = 173;
  expect_invalid([&] { bp::scale_back(v, g, so, mask.data(), nullptr, nullptr); }, "173 channels");
  v = heads.view();
  v.extent = 10;
  expect_invalid([&] { bp::scale_back(v, g, so, mask.data(), nullptr, nullptr); }, "heads beyond its extent");
  bp::Geometry bad = g;
  bad.pad_left = -1;
  expect_invalid([&] { bp::scale_back(heads.view(), bad, so, mask.data(), nullptr, nullptr); }, "negative pad");
  bad = g;
  bad.image_height = 0;
  expect_invalid([&] { bp::scale_back(heads.view(), bad, so, mask.data(), nullptr, nullptr); }, "image_height 0");
  bp::PoseOptions po;
  po.output_stride = 8;
  expect_invalid([&] { bp::decode_poses(heads.view(), g, po); }, "grid does not match stride 8");
  po.output_stride = 16;
  po.max_detections = 0;
  expect_invalid([&] { bp::decode_poses(heads.view(), g, po); }, "max_detections 0");
  po.max_detections = 1;
  po.nms_radius = -1;
  expect_invalid([&] { bp::decode_poses(heads.view(), g, po); }, "nms_radius < 0");
  bp::MaskView m{mask.data(), 30, 40, 40, 1};
  std::vector<double> kp(51, 0.0);
  expect_invalid([&] { bp::decode_instances(heads.view(), m, kp.data(), 1, g, 16, 0, 1, out.data()); },
                 "refine_steps 0");
  expect_invalid([&] { bp::decode_instances(heads.view(), m, nullptr, 1, g, 16, 10, 1, out.data()); },
                 "null keypoints");
  bp::MaskView small{mask.data(), 30, 39, 40, 1};
  expect_invalid([&] { bp::decode_instances(heads.view(), small, kp.data(), 1, g, 16, 10, 1, out.data()); },
                 "mask of another size");
  std::vector<uint8_t> pixels(30 * 40 * 3);
  ps::ImageView image = ps::ImageView::contiguous(pixels.data(), ps::PixelType::kUint8, 30, 40);
  std::vector<float> input(33 * 49 * 3);
  expect_invalid([&] { bp::preprocess(image, g, -1, input.data()); }, "num_threads -1");
  image.height = 31;
  expect_invalid([&] { bp::preprocess(image, g, 0, input.data()); }, "pixels of another size");
}

// The pre-processing (row lerps cached per thread, per-ISA kernels: the CTest variants run the
// AVX-512F, AVX2 and baseline ones) bit for bit against the element-by-element reference (the
// padded image's four corners, pixel::pixel_value, bodypix_pixel::blend in float64, then
// f32(v) / 127.5f - 1): random uint8 and float32 images (NaN, +-inf, -0, out of range), any
// strides, padding on all sides (rows and columns wholly in it), up- and downscales (blocks
// wider than the AVX-512F permute window among them), 1 thread and 3 (rows split between them).
template <typename T>
std::vector<float> preprocess_reference(const ps::ImageView& image, const bp::Geometry& g) {
  const T* data = static_cast<const T*>(image.data);
  const int ph = g.image_height + g.pad_top + g.pad_bottom, pw = g.image_width + g.pad_left + g.pad_right;
  const double ry = px::resize_ratio(ph, g.input_height, false), rx = px::resize_ratio(pw, g.input_width, false);
  auto value = [&](int row, int column, int ch) -> double {
    const int y = row - g.pad_top, x = column - g.pad_left;
    if (y < 0 || y >= g.image_height || x < 0 || x >= g.image_width) return 0.0;
    return static_cast<double>(
        ps::pixel::pixel_value(data[y * image.stride_height + x * image.stride_width + ch * image.stride_channels]));
  };
  std::vector<float> out(static_cast<size_t>(g.input_height) * g.input_width * 3);
  for (int r = 0; r < g.input_height; ++r) {
    const px::AxisSample sr = px::resize_sample(r, ry, ph);
    for (int c = 0; c < g.input_width; ++c) {
      const px::AxisSample sc = px::resize_sample(c, rx, pw);
      for (int ch = 0; ch < 3; ++ch) {
        const double v = px::blend(value(sr.lower, sc.lower, ch), value(sr.lower, sc.upper, ch),
                                   value(sr.upper, sc.lower, ch), value(sr.upper, sc.upper, ch), sc.frac, sr.frac);
        out[(static_cast<size_t>(r) * g.input_width + c) * 3 + ch] = static_cast<float>(v) / 127.5f - 1.0f;
      }
    }
  }
  return out;
}

void test_preprocess_matches_pixel_reference() {
  struct Case {
    int h, w, ih, iw, top, bottom, left, right;
  };
  const Case cases[] = {
      {480, 640, 241, 321, 0, 0, 0, 0}, {37, 53, 17, 33, 1, 1, 0, 0},  {1, 1, 1, 1, 0, 0, 0, 0},
      {1, 7, 17, 33, 3, 2, 0, 0},       {9, 1, 33, 17, 0, 0, 4, 4},    {23, 29, 49, 65, 5, 7, 3, 9},
      {31, 45, 17, 17, 40, 3, 2, 50},   {61, 400, 33, 17, 0, 0, 0, 0}, {17, 130, 9, 33, 0, 0, 6, 1},
      {64, 96, 32, 48, 0, 0, 0, 0},
  };
  std::mt19937 rng(20261202);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -0.0f,
                            255.0f,
                            255.5f,
                            -1e-30f,
                            1e30f};
  int compared = 0;
  for (const Case& k : cases) {
    const bp::Geometry g = geometry(k.h, k.w, k.ih, k.iw, k.top, k.bottom, k.left, k.right);
    for (int layout = 0; layout < 3; ++layout) {
      // 0: contiguous; 1: every other column of a wider image, channels reversed; 2: rows and
      // columns reversed (negative strides)
      const int64_t cols = layout == 1 ? 2 * k.w : k.w;
      const size_t n = static_cast<size_t>(k.h) * static_cast<size_t>(cols) * 3;
      std::vector<uint8_t> bytes(n);
      std::vector<float> floats(n);
      for (size_t i = 0; i < n; ++i) {
        bytes[i] = static_cast<uint8_t>(rng() & 255u);
        floats[i] = rng() % 7 == 0 ? specials[rng() % 8] : static_cast<float>(rng() % 40000) / 100.0f - 60.0f;
      }
      for (int type = 0; type < 2; ++type) {
        ps::ImageView v;
        v.type = type == 0 ? ps::PixelType::kUint8 : ps::PixelType::kFloat32;
        v.height = k.h;
        v.width = k.w;
        v.stride_height = cols * 3;
        v.stride_width = layout == 1 ? 6 : 3;
        v.stride_channels = 1;
        int64_t first = 0;
        if (layout == 1) {
          v.stride_channels = -1;
          first = 2;
        } else if (layout == 2) {
          v.stride_height = -cols * 3;
          v.stride_width = -3;
          first = (static_cast<int64_t>(k.h) - 1) * cols * 3 + (k.w - 1) * 3;
        }
        v.extent = static_cast<int64_t>(n);
        v.data_offset = first;
        v.data = type == 0 ? static_cast<const void*>(bytes.data() + first) : floats.data() + first;
        const std::vector<float> want =
            type == 0 ? preprocess_reference<uint8_t>(v, g) : preprocess_reference<float>(v, g);
        for (int threads : {1, 3}) {
          std::vector<float> got(want.size(), 7.0f);
          // 3 threads straight to the CPU loop: the public entry would give this little work one
          if (threads == 1)
            bp::preprocess(v, g, threads, got.data());
          else
            bp::cpu::preprocess(v, g, threads, got.data());
          size_t bad = 0;
          for (size_t i = 0; i < want.size(); ++i) bad += std::memcmp(&got[i], &want[i], sizeof(float)) != 0;
          check(bad == 0, "preprocess " + std::to_string(k.h) + "x" + std::to_string(k.w) + " -> " +
                              std::to_string(k.ih) + "x" + std::to_string(k.iw) + " layout " + std::to_string(layout) +
                              (type == 0 ? " uint8" : " float32") + " threads " + std::to_string(threads) + ": " +
                              std::to_string(bad) + " elements differ");
          ++compared;
        }
      }
    }
  }
  check(compared == 120, "preprocess reference test ran every case");
}

// Multithreaded results equal the single-threaded ones (rows split across threads, each with
// its own two-row score cache).
void test_threads() {
  Heads heads(12, 17);
  for (size_t i = 0; i < heads.v.size(); ++i) heads.v[i] = static_cast<float>(std::sin(0.37 * i) * 6.0);
  const bp::Geometry g = geometry(333, 500, 177, 257, 0, 0, 3, 4);
  const size_t n = 333 * 500;
  std::vector<uint8_t> m1(n), m2(n);
  std::vector<int32_t> p1(n), p2(n);
  std::vector<float> q1(n), q2(n);
  bp::ScaleBackOptions o;
  o.threshold = 0.5;
  o.num_threads = 1;
  bp::scale_back(heads.view(), g, o, m1.data(), p1.data(), q1.data());
  o.num_threads = 6;
  bp::scale_back(heads.view(), g, o, m2.data(), p2.data(), q2.data());
  check(m1 == m2 && p1 == p2 && q1 == q2, "scale_back: 1 and 6 threads agree");
}

// Random geometries and heads full of infinities, NaNs, huge and tiny values through every
// entry point (under ASan + UBSan, with float-to-int conversion checks): no crash, no undefined
// conversion, and the results keep their invariants.
void test_extreme_values() {
  std::mt19937 rng(11);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float values[] = {inf, -inf, nan, 1e30f, -1e30f, 1e-30f, 0.0f, -0.0f, 3.0f, -3.0f, 9.1e15f, -1.2e18f};
  std::uniform_int_distribution<int> pick(0, 11), side(1, 40), pad(0, 6), coin(0, 1);
  for (int round = 0; round < 60; ++round) {
    const int stride = coin(rng) ? 8 : 16;
    const int h = side(rng), w = side(rng);
    const int gh = 1 + side(rng) / 8, gw = 1 + side(rng) / 8;
    const bp::Geometry g =
        geometry(h, w, (gh - 1) * stride + 1, (gw - 1) * stride + 1, pad(rng), pad(rng), pad(rng), pad(rng));
    Heads heads(gh, gw);
    for (float& v : heads.v) v = values[pick(rng)];
    const size_t n = static_cast<size_t>(h) * w;
    std::vector<uint8_t> mask(n);
    std::vector<int32_t> parts(n), who(n);
    std::vector<float> prob(n);
    bp::ScaleBackOptions so;
    so.threshold = 0.5;
    bp::scale_back(heads.view(), g, so, mask.data(), parts.data(), prob.data());
    bool ok = true;
    for (size_t i = 0; i < n; ++i)
      ok = ok && mask[i] <= 1 && parts[i] >= -1 && parts[i] < 24 && (parts[i] >= 0) == mask[i];
    check(ok, "extreme values: mask 0/1, parts -1 outside and 0..23 inside");
    bp::PoseOptions po;
    po.output_stride = stride;
    po.score_threshold = 0.0;
    const bp::Poses poses = bp::decode_poses(heads.view(), g, po);
    check(poses.keypoints.size() == poses.scores.size() * 51, "extreme values: poses shape");
    std::fill(mask.begin(), mask.end(), uint8_t{1});
    std::vector<double> people(poses.keypoints);
    for (int k = 0; k < 51; ++k) people.push_back(static_cast<double>(values[pick(rng)]));
    const int64_t count = static_cast<int64_t>(people.size() / 51);
    bp::MaskView m{mask.data(), h, w, w, 1};
    bp::decode_instances(heads.view(), m, people.data(), count, g, stride, 1 + round % 20, 2, who.data());
    ok = true;
    for (size_t i = 0; i < n; ++i) ok = ok && who[i] >= -1 && who[i] < count;
    check(ok, "extreme values: instance ids in [-1, people)");
  }
}

/// The instance decoder (whichever kernel this CPU dispatches to: AVX-512, AVX2 or scalar; CTest
/// runs this binary once per path) against the per-pixel reference functions of
/// pixel/bodypix_pixel.hpp, bit for bit: random geometries (row tails of every length), long
/// offsets that move within and out of the grid (with NaN / inf / huge ones mixed in), people
/// whose keypoint scores straddle 0.3 (so some keypoints, and some people, are unused), mask
/// values 0, 1 and 2.
void test_instances_match_pixel_reference() {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            1e30f,
                            -1e30f,
                            0.5f,
                            -0.5f};
  std::uniform_int_distribution<int> side(1, 45), pad(0, 9), coin(0, 1), special(0, 6), people_count(0, 6);
  bool all_equal = true;
  int64_t assigned = 0;
  for (int round = 0; round < 80; ++round) {
    const int stride = coin(rng) ? 8 : 16;
    const int h = side(rng), w = side(rng);
    const int gh = 1 + side(rng) / 6, gw = 1 + side(rng) / 6;
    const bp::Geometry g =
        geometry(h, w, (gh - 1) * stride + 1, (gw - 1) * stride + 1, pad(rng), pad(rng), pad(rng), pad(rng));
    Heads heads(gh, gw);
    const double reach = 0.25 * std::max(h, w);
    for (int y = 0; y < gh; ++y)
      for (int x = 0; x < gw; ++x)
        for (int c = bp::kLongOffsetChannel; c < bp::kHeadsChannels; ++c)
          heads.at(y, x, c) =
              unit(rng) < 0.03 ? specials[special(rng)] : static_cast<float>((unit(rng) * 2.0 - 1.0) * reach);
    const int count = people_count(rng);
    std::vector<double> people(static_cast<size_t>(count) * 51);
    for (int q = 0; q < count; ++q)
      for (int k = 0; k < 17; ++k) {
        double* kp = people.data() + q * 51 + k * 3;
        kp[0] = (unit(rng) * 1.4 - 0.2) * h;
        kp[1] = (unit(rng) * 1.4 - 0.2) * w;
        const double r = unit(rng);
        kp[2] = r < 0.05 ? std::numeric_limits<double>::quiet_NaN() : (r < 0.1 ? 0.3 : r * 0.6);
        if (unit(rng) < 0.02) kp[1] = std::numeric_limits<double>::quiet_NaN();
      }
    const size_t n = static_cast<size_t>(h) * w;
    std::vector<uint8_t> mask(n);
    const double density = unit(rng);
    for (uint8_t& m : mask) m = unit(rng) < density ? 1 : (coin(rng) ? 2 : 0);
    const int refine = 1 + round % 12;
    std::vector<int32_t> who(n, 7);
    bp::MaskView mv{mask.data(), h, w, w, 1};
    bp::decode_instances(heads.view(), mv, people.data(), count, g, stride, refine, 1 + round % 3, who.data());
    const px::InstanceParams p = bp::cpu::instance_params(heads.view(), g, stride, refine);
    const px::HeadsLongOffsets offsets{
        px::Tensor3{heads.v.data(), static_cast<int64_t>(gw) * bp::kHeadsChannels, bp::kHeadsChannels, 1},
        bp::kLongOffsetChannel, gw};
    for (int32_t i = 0; i < h; ++i)
      for (int32_t j = 0; j < w; ++j) {
        int32_t expected = -1;
        if (count > 0 && mask[static_cast<size_t>(i) * w + j] == 1) {
          double ey[bp::kInstanceKeypoints], ex[bp::kInstanceKeypoints];
          px::embeddings<1, bp::kInstanceKeypoints>(offsets, p, &i, &j, ey, ex);
          expected = px::nearest_person(ey, ex, bp::kInstanceKeypoints, people.data(), count);
        }
        all_equal = all_equal && who[static_cast<size_t>(i) * w + j] == expected;
        assigned += expected >= 0 ? 1 : 0;
      }
  }
  check(all_equal, "instance decoder == pixel reference (embeddings + nearest_person), bit for bit");
  check(assigned > 1000, "instance decoder reference test assigns pixels (" + std::to_string(assigned) + ")");
}

/// The scale-back (whichever kernels this CPU dispatches to; CTest runs this binary once per
/// path) against a per-pixel reference built from pixel/bodypix_pixel.hpp alone: the
/// input-resolution scores at the four corners (input_score), their crop lerp (crop_value), the
/// mask rule and argmax_tfjs, bit for bit. `part_logits(rng, y, x, logits)` fills a grid cell's
/// 24 part logits; `what` names the case.
template <typename PartLogits>
void scale_back_matches_pixel_reference(const std::string& what, uint32_t seed, PartLogits part_logits) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> side(1, 40), pad(0, 5);
  bool parts_equal = true, scores_equal = true;
  int64_t person_pixels = 0;
  for (int round = 0; round < 40; ++round) {
    const int h = side(rng), w = side(rng);
    const int gh = 1 + side(rng) / 4, gw = 1 + side(rng) / 4;
    const bp::Geometry g = geometry(h, w, (gh - 1) * 8 + 1, (gw - 1) * 8 + 1, pad(rng), pad(rng), pad(rng), pad(rng));
    Heads heads(gh, gw);
    for (int y = 0; y < gh; ++y)
      for (int x = 0; x < gw; ++x) {
        heads.at(y, x, bp::kSegmentChannel) = static_cast<float>(unit(rng) * 8.0 - 2.0);
        float logits[24];
        part_logits(rng, round, y, x, logits);
        for (int k = 0; k < 24; ++k) heads.at(y, x, bp::kPartChannel + k) = logits[k];
      }
    const size_t n = static_cast<size_t>(h) * w;
    std::vector<uint8_t> mask(n);
    std::vector<int32_t> parts(n);
    std::vector<float> prob(n);
    bp::ScaleBackOptions so;
    so.threshold = 0.5;
    so.num_threads = 1 + round % 3;
    bp::scale_back(heads.view(), g, so, mask.data(), parts.data(), prob.data());
    const bp::ScaleBackPlan plan = bp::make_scale_back_plan(gh, gw, g);
    const px::Tensor3 t{heads.v.data(), static_cast<int64_t>(gw) * bp::kHeadsChannels, bp::kHeadsChannels, 1};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = static_cast<size_t>(y) * w + x;
        const px::CropSample& cr = plan.crop_rows[static_cast<size_t>(y)];
        const px::CropSample& cc = plan.crop_columns[static_cast<size_t>(x)];
        auto score = [&](int32_t row, int32_t column, int32_t c) {
          if (cr.kind != px::kCropSample || cc.kind != px::kCropSample) return 0.0f;  // crop_value ignores it
          return px::input_score(t, c, plan.input_rows[static_cast<size_t>(row)],
                                 plan.input_columns[static_cast<size_t>(column)]);
        };
        auto crop = [&](int32_t c) {
          return px::crop_value(score(cr.lower, cc.lower, c), score(cr.lower, cc.upper, c),
                                score(cr.upper, cc.lower, c), score(cr.upper, cc.upper, c), cr, cc);
        };
        const float segment = crop(bp::kSegmentChannel);
        const bool same =
            std::memcmp(&segment, &prob[i], sizeof segment) == 0 || (segment != segment && prob[i] != prob[i]);
        scores_equal = scores_equal && same && mask[i] == (px::is_person(segment, so.threshold) ? 1 : 0);
        if (!mask[i]) {
          parts_equal = parts_equal && parts[i] == -1;
          continue;
        }
        ++person_pixels;
        float values[24];
        for (int k = 0; k < 24; ++k) values[k] = crop(bp::kPartChannel + k);
        parts_equal = parts_equal && parts[i] == px::argmax_tfjs(values, 24);
      }
  }
  check(scores_equal, what + ": scale-back scores and mask == pixel reference, bit for bit");
  check(parts_equal,
        what + ": scale-back parts == pixel reference (input_score, crop_value, argmax_tfjs), bit for bit");
  check(person_pixels > 1000, what + ": has person pixels (" + std::to_string(person_pixels) + ")");
}

/// Random logits with NaN / inf / ties (+0, -0 and repeated values) mixed in.
void test_parts_match_pixel_reference() {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            2.0f,
                            2.0f,
                            -40.0f};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> special(0, 7);
  scale_back_matches_pixel_reference("random logits", 99, [&](std::mt19937& rng, int round, int, int, float* logits) {
    const double rare = round % 2 == 0 ? 0.02 : 0.3;
    for (int k = 0; k < 24; ++k)
      logits[k] = unit(rng) < rare ? specials[special(rng)] : static_cast<float>(unit(rng) * 6.0 - 3.0);
  });
}

/// The cases the parts shortcut (a part that wins over the four cells by a margin is taken
/// without the lerps) must get right or leave to the full computation: a runner-up within
/// 0 .. 0.3 of the winner (around the shortcut's 0.05), saturated scores (logits 8 .. 40, where
/// sigmoids round to 1 and tie: first index wins), tiny scores (logits -40 .. -10), and regions
/// where one part wins everywhere (the shortcut's common case), in every cell layout.
void test_parts_shortcut_edges() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> part(0, 23);
  const double gaps[] = {0.0, 1e-7, 1e-5, 1e-3, 0.0499, 0.05, 0.0501, 0.3};
  std::uniform_int_distribution<int> gap(0, 7);
  scale_back_matches_pixel_reference("near ties", 7, [&](std::mt19937& rng, int, int, int, float* logits) {
    for (int k = 0; k < 24; ++k) logits[k] = static_cast<float>(unit(rng) * 6.0 - 5.0);
    const int winner = part(rng), runner_up = part(rng);
    const float top = static_cast<float>(unit(rng) * 16.0 - 8.0);
    logits[winner] = top;
    if (runner_up != winner) logits[runner_up] = static_cast<float>(top - gaps[gap(rng)]);
  });
  scale_back_matches_pixel_reference("saturated", 8, [&](std::mt19937& rng, int, int, int, float* logits) {
    for (int k = 0; k < 24; ++k) logits[k] = static_cast<float>(unit(rng) < 0.5 ? 8.0 + unit(rng) * 32.0 : 20.0);
  });
  scale_back_matches_pixel_reference("tiny", 9, [&](std::mt19937& rng, int, int, int, float* logits) {
    for (int k = 0; k < 24; ++k) logits[k] = static_cast<float>(-40.0 + unit(rng) * 30.0);
  });
  scale_back_matches_pixel_reference("regions", 10, [&](std::mt19937& rng, int round, int y, int x, float* logits) {
    for (int k = 0; k < 24; ++k) logits[k] = static_cast<float>(unit(rng) * 2.0 - 4.0);
    logits[(y / 3 + x / 4 + round) % 24] = static_cast<float>(2.0 + unit(rng) * 8.0);
  });
}

}  // namespace

int main() {
  test_js_round();
  test_float32_box();
  test_last_row_zero();
  test_missing_lower_clamp();
  test_heap_order_equal_scores();
  test_nms_inclusive();
  test_validation();
  test_preprocess_matches_pixel_reference();
  test_threads();
  test_instances_match_pixel_reference();
  test_parts_match_pixel_reference();
  test_parts_shortcut_edges();
  test_extreme_values();
  return ps_test::report();
}
