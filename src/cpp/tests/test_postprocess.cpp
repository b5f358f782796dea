// C++ unit tests of the core (run by CTest). No test framework: each check prints what failed
// and the process exits non-zero if any did.
//
// The fused kernels are compared with a naive reference written here the way TensorFlow runs
// the steps: a full align-corners resize of every channel to the model input, a crop, a second
// full resize to the image size, then threshold / argmax / flip.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "person_segmentation/person_segmentation.hpp"
#include "pixel/direct_pixel.hpp"
#include "pixel/postprocess_pixel.hpp"

namespace ps = person_segmentation;

namespace {

using ps_test::check;
using ps_test::expect_invalid;

// (h, w, c) float image, C-contiguous.
struct Image {
  int h, w, c;
  std::vector<float> v;
  float& at(int y, int x, int k) { return v[(static_cast<size_t>(y) * w + x) * c + k]; }
  float at(int y, int x, int k) const { return v[(static_cast<size_t>(y) * w + x) * c + k]; }
};

Image resize_align_corners(const Image& in, int out_h, int out_w) {
  Image out{out_h, out_w, in.c, std::vector<float>(static_cast<size_t>(out_h) * out_w * in.c)};
  const float sy = ps::pixel::resize_scale(in.h, out_h, true);
  const float sx = ps::pixel::resize_scale(in.w, out_w, true);
  for (int y = 0; y < out_h; ++y) {
    const float fy = static_cast<float>(y) * sy;
    const int y0 = static_cast<int>(std::floor(fy));
    const int y1 = std::min(static_cast<int>(std::ceil(fy)), in.h - 1);
    const float ly = fy - std::floor(fy);
    for (int x = 0; x < out_w; ++x) {
      const float fx = static_cast<float>(x) * sx;
      const int x0 = static_cast<int>(std::floor(fx));
      const int x1 = std::min(static_cast<int>(std::ceil(fx)), in.w - 1);
      const float lx = fx - std::floor(fx);
      for (int k = 0; k < in.c; ++k) {
        const float top = in.at(y0, x0, k) + (in.at(y0, x1, k) - in.at(y0, x0, k)) * lx;
        const float bottom = in.at(y1, x0, k) + (in.at(y1, x1, k) - in.at(y1, x0, k)) * lx;
        out.at(y, x, k) = top + (bottom - top) * ly;
      }
    }
  }
  return out;
}

Image scale_back(const Image& logits, const ps::ResizePadGeometry& g) {
  Image s = logits;
  for (auto& x : s.v) x = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  Image model = resize_align_corners(s, g.model_height, g.model_width);
  Image crop{g.resized_height, g.resized_width, s.c, {}};
  crop.v.resize(static_cast<size_t>(crop.h) * crop.w * crop.c);
  for (int y = 0; y < crop.h; ++y)
    for (int x = 0; x < crop.w; ++x)
      for (int k = 0; k < crop.c; ++k) crop.at(y, x, k) = model.at(y + g.pad_top, x + g.pad_left, k);
  return resize_align_corners(crop, g.image_height, g.image_width);
}

Image random_image(std::mt19937& rng, int h, int w, int c, float sigma) {
  std::normal_distribution<float> dist(0.0f, sigma);
  Image im{h, w, c, std::vector<float>(static_cast<size_t>(h) * w * c)};
  for (auto& x : im.v) x = dist(rng);
  return im;
}

void test_geometry() {
  const auto land = ps::compute_geometry(480, 640);
  check(land.resized_width == 257 && land.resized_height == 193 && land.pad_top == 80 && land.pad_bottom == 80 &&
            land.pad_left == 0,
        "landscape geometry: " + ps::to_string(land));
  const auto port = ps::compute_geometry(500, 333);
  check(port.resized_height == 353 && port.resized_width == 236 && port.pad_left == 10 && port.pad_right == 11,
        "portrait geometry: " + ps::to_string(port));
  const auto same = ps::compute_geometry(353, 257);
  check(same.resized_height == 353 && same.resized_width == 257 && same.pad_left == 0 && same.pad_top == 0,
        "model-sized geometry: " + ps::to_string(same));
  const auto thin = ps::compute_geometry(1000, 1);
  check(thin.resized_height == 353 && thin.resized_width == 1 && thin.pad_left == 128,
        "1-pixel-wide geometry: " + ps::to_string(thin));
  const auto flat = ps::compute_geometry(1, 1000);
  check(flat.resized_width == 257 && flat.resized_height == 1 && flat.pad_top == 176,
        "1-pixel-high geometry: " + ps::to_string(flat));
  for (int h = 1; h < 400; h += 7)
    for (int w = 1; w < 400; w += 5) ps::validate_geometry(ps::compute_geometry(h, w));
  expect_invalid([] { ps::compute_geometry(0, 5); }, "zero height");
  expect_invalid([] { ps::compute_geometry(5, -1); }, "negative width");
  ps::ResizePadGeometry bad = land;
  bad.pad_top += 1;
  expect_invalid([&] { ps::validate_geometry(bad); }, "pads that do not add up");
}

void compare_with_reference(std::mt19937& rng, int image_h, int image_w, int grid_h, int grid_w, float threshold,
                            bool flip, int threads) {
  const auto g = ps::compute_geometry(image_h, image_w);
  const Image seg = random_image(rng, grid_h, grid_w, 1, 3.0f);
  const Image parts = random_image(rng, grid_h, grid_w, 24, 2.0f);
  const Image seg_full = scale_back(seg, g);
  const Image parts_full = scale_back(parts, g);

  ps::PostprocessOptions opt;
  opt.segmentation_threshold = threshold;
  opt.flip_horizontal = flip;
  opt.num_threads = threads;
  std::vector<uint8_t> mask(static_cast<size_t>(image_h) * image_w);
  std::vector<int32_t> part_map(mask.size());
  const auto seg_view = ps::FloatTensorView::contiguous(seg.v.data(), grid_h, grid_w, 1);
  const auto part_view = ps::FloatTensorView::contiguous(parts.v.data(), grid_h, grid_w, 24);
  ps::person_mask(seg_view, g, opt, mask.data());
  ps::part_segmentation(seg_view, part_view, g, opt, part_map.data());

  int mask_diff = 0, part_diff = 0;
  for (int y = 0; y < image_h; ++y) {
    for (int x = 0; x < image_w; ++x) {
      const bool person = seg_full.at(y, x, 0) > threshold;
      int best = 0;
      for (int k = 1; k < 24; ++k)
        if (parts_full.at(y, x, k) > parts_full.at(y, x, best)) best = k;
      const int expected_part = person ? best : -1;
      const size_t o = static_cast<size_t>(y) * image_w + (flip ? image_w - 1 - x : x);
      mask_diff += mask[o] != (person ? 1 : 0);
      part_diff += part_map[o] != expected_part;
    }
  }
  char what[160];
  std::snprintf(
      what, sizeof what,
      "fused == reference for image %dx%d grid %dx%d thr %.2f flip %d threads %d (mask diff %d, part diff %d)", image_h,
      image_w, grid_h, grid_w, threshold, flip, threads, mask_diff, part_diff);
  check(mask_diff == 0 && part_diff == 0, what);
}

void test_against_reference() {
  std::mt19937 rng(1234);
  compare_with_reference(rng, 480, 640, 23, 17, 0.5f, false, 0);
  compare_with_reference(rng, 480, 640, 45, 33, 0.3f, true, 2);
  compare_with_reference(rng, 500, 333, 23, 17, 0.7f, true, 3);
  compare_with_reference(rng, 1, 1, 23, 17, 0.5f, false, 1);
  compare_with_reference(rng, 1, 300, 12, 9, 0.5f, true, 1);
  compare_with_reference(rng, 300, 1, 12, 9, 0.5f, false, 4);
  compare_with_reference(rng, 100, 80, 2, 2, 0.5f, false, 1);
  compare_with_reference(rng, 1000, 37, 45, 33, 0.5f, false, 7);
}

void test_strided_views_and_threads() {
  // The same logits read through an interleaved (h, w, 25) buffer give the same result.
  std::mt19937 rng(7);
  const int gh = 23, gw = 17;
  const Image both = random_image(rng, gh, gw, 25, 2.0f);
  Image seg{gh, gw, 1, {}}, parts{gh, gw, 24, {}};
  for (int y = 0; y < gh; ++y)
    for (int x = 0; x < gw; ++x) {
      seg.v.push_back(both.at(y, x, 0));
      for (int k = 1; k < 25; ++k) parts.v.push_back(both.at(y, x, k));
    }
  const auto g = ps::compute_geometry(240, 320);
  ps::PostprocessOptions opt;
  std::vector<int32_t> a(240 * 320), b(240 * 320), c(240 * 320);
  ps::part_segmentation(ps::FloatTensorView::contiguous(seg.v.data(), gh, gw, 1),
                        ps::FloatTensorView::contiguous(parts.v.data(), gh, gw, 24), g, opt, a.data());
  const ps::FloatTensorView seg_view{both.v.data(), gh, gw, 1, gw * 25, 25, 1};
  const ps::FloatTensorView part_view{both.v.data() + 1, gh, gw, 24, gw * 25, 25, 1};
  ps::part_segmentation(seg_view, part_view, g, opt, b.data());
  check(a == b, "strided views give the same parts as contiguous copies");
  opt.num_threads = 1;
  ps::part_segmentation(seg_view, part_view, g, opt, c.data());
  check(a == c, "one thread gives the same parts as many");
}

void test_validation() {
  std::vector<float> grid(23 * 17 * 24, 0.0f);
  std::vector<uint8_t> mask(10 * 10);
  std::vector<int32_t> parts(10 * 10);
  const auto g = ps::compute_geometry(10, 10);
  const ps::PostprocessOptions opt;
  const auto seg = ps::FloatTensorView::contiguous(grid.data(), 23, 17, 1);
  expect_invalid([&] { ps::person_mask(ps::FloatTensorView{}, g, opt, mask.data()); }, "null logits");
  expect_invalid([&] { ps::person_mask(ps::FloatTensorView::contiguous(grid.data(), 23, 17, 2), g, opt, mask.data()); },
                 "segment logits with 2 channels");
  expect_invalid([&] { ps::person_mask(ps::FloatTensorView::contiguous(grid.data(), 0, 17, 1), g, opt, mask.data()); },
                 "empty grid");
  expect_invalid(
      [&] { ps::person_mask(ps::FloatTensorView::contiguous(grid.data(), 400, 17, 1), g, opt, mask.data()); },
      "grid larger than the model input");
  expect_invalid([&] { ps::person_mask(seg, g, opt, nullptr); }, "null output");
  ps::PostprocessOptions nan_opt;
  nan_opt.segmentation_threshold = std::nanf("");
  expect_invalid([&] { ps::person_mask(seg, g, nan_opt, mask.data()); }, "NaN threshold");
  ps::PostprocessOptions neg_threads;
  neg_threads.num_threads = -1;
  expect_invalid([&] { ps::person_mask(seg, g, neg_threads, mask.data()); }, "negative threads");
  expect_invalid(
      [&] {
        ps::part_segmentation(seg, ps::FloatTensorView::contiguous(grid.data(), 22, 17, 24), g, opt, parts.data());
      },
      "part grid of another size");
  ps::ResizePadGeometry bad = g;
  bad.resized_width = 0;
  expect_invalid([&] { ps::person_mask(seg, bad, opt, mask.data()); }, "invalid geometry");
  // A float pointer that is not 4-byte aligned (on a GPU a sticky error that ends the context).
  const auto* bytes = reinterpret_cast<const unsigned char*>(grid.data());
  const auto misaligned = ps::FloatTensorView::contiguous(reinterpret_cast<const float*>(bytes + 1), 2, 2, 1);
  expect_invalid([&] { ps::person_mask(misaligned, g, opt, mask.data()); }, "misaligned segment logits");
  expect_invalid(
      [&] {
        ps::part_segmentation(seg,
                              ps::FloatTensorView::contiguous(reinterpret_cast<const float*>(bytes + 2), 23, 17, 2), g,
                              opt, parts.data());
      },
      "misaligned part logits");
  expect_invalid(
      [&] {
        ps::part_segmentation(seg, seg, g, opt, reinterpret_cast<int32_t*>(reinterpret_cast<char*>(parts.data()) + 1));
      },
      "misaligned int32 output");
  ps::PostprocessOptions device_out;
  device_out.output_device = ps::Device::kCuda;
  expect_invalid([&] { ps::person_mask(seg, g, device_out, mask.data()); }, "output_device kCuda with the CPU kernels");
  device_out.output_device = static_cast<ps::Device>(7);
  expect_invalid([&] { ps::person_mask(seg, g, device_out, mask.data()); }, "output_device outside the enum");
}

void test_pixel_helpers() {
  const float scores[5] = {0.1f, 0.9f, 0.3f, 0.9f, 0.2f};
  check(ps::pixel::argmax_first(scores, 5) == 1, "argmax: first index wins a tie");
  float many[40];
  for (int k = 0; k < 40; ++k) many[k] = static_cast<float>((k * 7) % 13);
  check(ps::pixel::argmax_first(many, 40) == 11, "argmax over several lanes: first of the maxima");
  check(ps::pixel::argmax_first(many, 1) == 0, "argmax of one score");
  check(ps::pixel::score_of_logit(std::nanf("")) == -1.0f, "a NaN logit scores -1");
  check(!ps::pixel::is_person(0.5f, 0.5f) && ps::pixel::is_person(0.50001f, 0.5f), "strict threshold");
  check(ps::pixel::masked_part(7, false) == -1 && ps::pixel::masked_part(7, true) == 7, "masked part");
  check(ps::pixel::output_column(0, 10, true) == 9 && ps::pixel::output_column(3, 10, false) == 3, "flip column");
  check(ps::pixel::sigmoid(0.0f) == 0.5f, "sigmoid(0) = 0.5");
}

/// The per-pixel path the CUDA kernels run (pixel/direct_pixel.hpp), evaluated on the host, must
/// give exactly the CPU kernels' results: the CUDA arithmetic is checked without a GPU.
void test_direct_pixel_path_equals_cpu_kernels() {
  std::mt19937 rng(21);
  const int sizes[][4] = {{480, 640, 23, 17}, {500, 333, 45, 33}, {1, 1, 23, 17},
                          {1, 300, 12, 9},    {300, 1, 12, 9},    {64, 48, 2, 2}};
  for (const auto& size : sizes) {
    const int image_h = size[0], image_w = size[1], gh = size[2], gw = size[3];
    const Image seg = random_image(rng, gh, gw, 1, 3.0f);
    const Image parts = random_image(rng, gh, gw, 24, 2.0f);
    const auto g = ps::compute_geometry(image_h, image_w);
    // The scores grid as the CUDA scores kernel lays it out: [part 0..23, segment] per cell.
    std::vector<float> scores(static_cast<size_t>(gh) * gw * 25);
    for (int y = 0; y < gh; ++y)
      for (int x = 0; x < gw; ++x) {
        float* d = scores.data() + (static_cast<size_t>(y) * gw + x) * 25;
        for (int k = 0; k < 24; ++k) d[k] = ps::pixel::score_of_logit(parts.at(y, x, k));
        d[24] = ps::pixel::score_of_logit(seg.at(y, x, 0));
      }
    const auto s = ps::direct::make_sampling(gh, gw, 24, g);
    const auto seg_only = ps::direct::make_sampling(gh, gw, 0, g);
    std::vector<float> seg_scores(static_cast<size_t>(gh) * gw);
    for (size_t i = 0; i < seg_scores.size(); ++i) seg_scores[i] = scores[i * 25 + 24];

    ps::PostprocessOptions opt;
    opt.segmentation_threshold = 0.4f;
    std::vector<uint8_t> mask(static_cast<size_t>(image_h) * image_w);
    std::vector<int32_t> part_map(mask.size());
    ps::person_mask(ps::FloatTensorView::contiguous(seg.v.data(), gh, gw, 1), g, opt, mask.data());
    ps::part_segmentation(ps::FloatTensorView::contiguous(seg.v.data(), gh, gw, 1),
                          ps::FloatTensorView::contiguous(parts.v.data(), gh, gw, 24), g, opt, part_map.data());
    // The person probability, alone (with the mask beside it) and from the part pass.
    std::vector<float> probability(mask.size());
    std::vector<float> part_probability(mask.size());
    std::vector<uint8_t> mask_with_probability(mask.size());
    std::vector<int32_t> part_map_with_probability(mask.size());
    ps::person_probability(ps::FloatTensorView::contiguous(seg.v.data(), gh, gw, 1), g, opt, probability.data(),
                           mask_with_probability.data());
    ps::part_segmentation_with_probability(ps::FloatTensorView::contiguous(seg.v.data(), gh, gw, 1),
                                           ps::FloatTensorView::contiguous(parts.v.data(), gh, gw, 24), g, opt,
                                           part_map_with_probability.data(), part_probability.data());
    int mask_diff = 0, part_diff = 0, probability_diff = 0;
    for (int y = 0; y < image_h; ++y)
      for (int x = 0; x < image_w; ++x) {
        const size_t o = static_cast<size_t>(y) * image_w + x;
        mask_diff += ps::direct::mask_at(seg_scores.data(), seg_only, y, x, 0.4f) != mask[o];
        part_diff += ps::direct::part_at(scores.data(), s, y, x, 0.4f) != part_map[o];
        const float p = probability[o];
        probability_diff += ps::direct::probability_at(seg_scores.data(), seg_only, y, x) != p;
        probability_diff += ps::direct::probability_at(scores.data(), s, y, x) != p;
        probability_diff += part_probability[o] != p || !(p >= 0.0f && p <= 1.0f);
        mask_diff += mask_with_probability[o] != mask[o] || (p > 0.4f) != (mask[o] == 1);
        part_diff += part_map_with_probability[o] != part_map[o];
      }
    char what[200];
    std::snprintf(what, sizeof what,
                  "direct (CUDA) pixel path == CPU kernels for image %dx%d grid %dx%d (mask diff %d, part diff %d, "
                  "probability diff %d)",
                  image_h, image_w, gh, gw, mask_diff, part_diff, probability_diff);
    check(mask_diff == 0 && part_diff == 0 && probability_diff == 0, what);
  }
}

/// The public constants, the version and the run-time queries (runtime.hpp).
void test_constants_and_runtime() {
  check(ps::kModelHeight == 353 && ps::kModelWidth == 257, "model input 353x257");
  check(ps::kMaxImageSide == 65536 && ps::kMaxGeometrySide == ps::kMaxImageSide, "largest side 65536");
  check(ps::kNumParts == 24, "24 BodyPix parts");
  check(ps::kMaxPartChannels == 1024, "at most 1024 part channels");
  check(ps::direct::kMaxDirectParts == 32 && ps::direct::kMaxDirectParts < ps::kMaxPartChannels,
        "the direct (CUDA) path keeps at most 32 parts");
  const auto g = ps::compute_geometry(1, 1);
  check(g.model_height == ps::kModelHeight && g.model_width == ps::kModelWidth, "default model input");
  // The compiled core and the headers (the generated version.hpp) tell the same version.
  check(std::string(ps::version()) == PERSON_SEGMENTATION_VERSION, "version() == PERSON_SEGMENTATION_VERSION");
  check(std::string(PERSON_SEGMENTATION_VERSION) == std::to_string(PERSON_SEGMENTATION_VERSION_MAJOR) + "." +
                                                        std::to_string(PERSON_SEGMENTATION_VERSION_MINOR) + "." +
                                                        std::to_string(PERSON_SEGMENTATION_VERSION_PATCH),
        "PERSON_SEGMENTATION_VERSION == MAJOR.MINOR.PATCH");
  const std::string summary = ps::build_summary();
  check(summary.rfind(std::string("person_segmentation ") + ps::version() + ", ", 0) == 0,
        "build_summary() starts with the version: " + summary);
  check(summary.find(ps::cuda_compiled() ? ", CUDA compiled in" : ", no CUDA") != std::string::npos,
        "build_summary() tells whether CUDA is compiled in: " + summary);
  check(ps::default_num_threads() >= 1, "default_num_threads() >= 1");
  check(ps::cuda_device_count() >= 0 && (ps::cuda_compiled() || ps::cuda_device_count() == 0),
        "no CUDA devices without the CUDA kernels");
  // The runtime and driver versions, and why no device is usable when none is.
  const ps::CudaRuntimeInfo info = ps::cuda_runtime_info();
  check(info.usable_devices == ps::cuda_device_count() && info.usable_devices <= info.devices,
        "cuda_runtime_info() counts the usable devices as cuda_device_count()");
  check((info.runtime_version > 0) == ps::cuda_compiled(), "a CUDA runtime version exactly when CUDA is compiled in");
  check(info.unavailable_reason.empty() == (info.usable_devices > 0),
        "a reason exactly when no device is usable: '" + info.unavailable_reason + "'");
  std::printf("CUDA runtime %d, driver %d, %d device(s), %d usable%s%s\n", info.runtime_version, info.driver_version,
              info.devices, info.usable_devices, info.unavailable_reason.empty() ? "" : ": ",
              info.unavailable_reason.c_str());
}

void test_cuda_dispatch() {
  std::mt19937 rng(11);
  const Image seg = random_image(rng, 23, 17, 1, 3.0f);
  const Image parts = random_image(rng, 23, 17, 24, 2.0f);
  const auto g = ps::compute_geometry(97, 131);
  const auto seg_view = ps::FloatTensorView::contiguous(seg.v.data(), 23, 17, 1);
  const auto part_view = ps::FloatTensorView::contiguous(parts.v.data(), 23, 17, 24);
  ps::PostprocessOptions cpu_opt;
  cpu_opt.flip_horizontal = true;
  ps::PostprocessOptions cuda_opt = cpu_opt;
  cuda_opt.compute_device = ps::Device::kCuda;
  std::vector<int32_t> on_cpu(97 * 131), on_gpu(97 * 131);
  ps::part_segmentation(seg_view, part_view, g, cpu_opt, on_cpu.data());
  if (ps::cuda_device_count() == 0) {
    bool threw = false;
    try {
      ps::part_segmentation(seg_view, part_view, g, cuda_opt, on_gpu.data());
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()).find("CUDA") != std::string::npos;
    }
    check(threw, "CUDA requested without a device: a runtime_error that says so");
    std::printf("no CUDA device (CUDA compiled in: %s): CUDA comparison skipped\n", ps::cuda_compiled() ? "yes" : "no");
    return;
  }
  ps::part_segmentation(seg_view, part_view, g, cuda_opt, on_gpu.data());
  check(on_cpu == on_gpu, "CUDA part map equals the CPU part map");
  std::vector<uint8_t> mask_cpu(97 * 131), mask_gpu(97 * 131);
  ps::person_mask(seg_view, g, cpu_opt, mask_cpu.data());
  ps::person_mask(seg_view, g, cuda_opt, mask_gpu.data());
  check(mask_cpu == mask_gpu, "CUDA mask equals the CPU mask");
}

// Naive pre-processing written from the spec: mirror, TF legacy bilinear resize of the whole
// image (float32, horizontal then vertical), zero pad, x / 127.5 - 1.
std::vector<float> naive_preprocess(const std::vector<uint8_t>& rgb, int h, int w, const ps::ResizePadGeometry& g,
                                    bool flip) {
  auto px = [&](int y, int x, int k) {
    const int sx = flip ? w - 1 - x : x;
    return static_cast<float>(rgb[(static_cast<size_t>(y) * w + sx) * 3 + k]);
  };
  std::vector<float> out(static_cast<size_t>(g.model_height) * g.model_width * 3, 0.0f / 127.5f - 1.0f);
  const float sy = static_cast<float>(h) / static_cast<float>(g.resized_height);
  const float sx = static_cast<float>(w) / static_cast<float>(g.resized_width);
  for (int y = 0; y < g.resized_height; ++y) {
    const float fy = static_cast<float>(y) * sy;
    const int y0 = static_cast<int>(std::floor(fy));
    const int y1 = std::min(static_cast<int>(std::ceil(fy)), h - 1);
    const float ly = fy - std::floor(fy);
    for (int x = 0; x < g.resized_width; ++x) {
      const float fx = static_cast<float>(x) * sx;
      const int x0 = static_cast<int>(std::floor(fx));
      const int x1 = std::min(static_cast<int>(std::ceil(fx)), w - 1);
      const float lx = fx - std::floor(fx);
      for (int k = 0; k < 3; ++k) {
        const float top = px(y0, x0, k) + (px(y0, x1, k) - px(y0, x0, k)) * lx;
        const float bottom = px(y1, x0, k) + (px(y1, x1, k) - px(y1, x0, k)) * lx;
        const float v = top + (bottom - top) * ly;
        out[(static_cast<size_t>(y + g.pad_top) * g.model_width + (x + g.pad_left)) * 3 + k] = v / 127.5f - 1.0f;
      }
    }
  }
  return out;
}

void test_preprocess() {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  const int sizes[][2] = {{480, 640}, {640, 480}, {1, 1}, {353, 257}, {7, 900}, {1000, 3}, {100, 100}};
  for (const auto& hw : sizes) {
    const int h = hw[0], w = hw[1];
    std::vector<uint8_t> rgb(static_cast<size_t>(h) * w * 3);
    for (auto& v : rgb) v = static_cast<uint8_t>(byte(rng));
    const auto g = ps::compute_geometry(h, w);
    for (bool flip : {false, true}) {
      for (int threads : {1, 3}) {
        std::vector<float> out(static_cast<size_t>(g.model_height) * g.model_width * 3, 42.0f);
        ps::PreprocessOptions opt;
        opt.flip_horizontal = flip;
        opt.num_threads = threads;
        ps::resize_pad_normalize(ps::ImageView::contiguous(rgb.data(), ps::PixelType::kUint8, h, w), g, opt,
                                 out.data());
        check(out == naive_preprocess(rgb, h, w, g, flip), "pre-processing of " + std::to_string(h) + "x" +
                                                               std::to_string(w) + (flip ? " mirrored" : "") +
                                                               " equals the naive resize");
      }
    }
    // The same pixels as float32 read through a column-reversed view (negative strides),
    // mirrored back: equal to the plain uint8 result.
    std::vector<float> as_float(rgb.begin(), rgb.end());
    ps::ImageView reversed =
        ps::ImageView::contiguous(as_float.data() + (static_cast<size_t>(w) - 1) * 3, ps::PixelType::kFloat32, h, w);
    reversed.stride_width = -3;
    reversed.extent = static_cast<int64_t>(as_float.size());
    reversed.data_offset = (static_cast<int64_t>(w) - 1) * 3;
    ps::PreprocessOptions opt;
    opt.flip_horizontal = true;
    std::vector<float> a(static_cast<size_t>(g.model_height) * g.model_width * 3);
    ps::resize_pad_normalize(reversed, g, opt, a.data());
    check(a == naive_preprocess(rgb, h, w, g, false), "float32 reversed view + flip equals uint8 unflipped");
  }
  // Float pixels are made finite and clamped: NaN -> 0, -inf/-5 -> 0, +inf/300 -> 255.
  const float specials[6] = {std::nanf(""), -INFINITY, -5.0f, INFINITY, 300.0f, 255.0f};
  std::vector<float> img(2 * 3 * 3);
  for (size_t i = 0; i < img.size(); ++i) img[i] = specials[i % 6];
  std::vector<float> clamped(img.size());
  for (size_t i = 0; i < img.size(); ++i) clamped[i] = (i % 6) < 3 ? 0.0f : 255.0f;
  const auto g = ps::compute_geometry(2, 3);
  std::vector<float> a(static_cast<size_t>(g.model_height) * g.model_width * 3), b(a.size());
  ps::resize_pad_normalize(ps::ImageView::contiguous(img.data(), ps::PixelType::kFloat32, 2, 3), g, {}, a.data());
  ps::resize_pad_normalize(ps::ImageView::contiguous(clamped.data(), ps::PixelType::kFloat32, 2, 3), g, {}, b.data());
  check(a == b, "NaN/inf/out-of-range float pixels read as 0 or 255");
  check(a[0] == -1.0f, "padding is -1");

  // Validation.
  std::vector<uint8_t> small(10 * 10 * 3);
  const auto g10 = ps::compute_geometry(10, 10);
  std::vector<float> out(static_cast<size_t>(g10.model_height) * g10.model_width * 3);
  const auto view = ps::ImageView::contiguous(small.data(), ps::PixelType::kUint8, 10, 10);
  expect_invalid([&] { ps::resize_pad_normalize(ps::ImageView{}, g10, {}, out.data()); }, "null image");
  expect_invalid([&] { ps::resize_pad_normalize(view, ps::compute_geometry(10, 11), {}, out.data()); },
                 "image size differs from the geometry");
  expect_invalid([&] { ps::resize_pad_normalize(view, g10, {}, nullptr); }, "null output");
  ps::ImageView bad_type = view;
  bad_type.type = static_cast<ps::PixelType>(7);
  expect_invalid([&] { ps::resize_pad_normalize(bad_type, g10, {}, out.data()); }, "pixel type outside the enum");
  ps::ImageView overrun = view;
  overrun.extent = 10 * 10 * 3 - 1;
  expect_invalid([&] { ps::resize_pad_normalize(overrun, g10, {}, out.data()); }, "image past its extent");
  ps::PreprocessOptions negative;
  negative.num_threads = -2;
  expect_invalid([&] { ps::resize_pad_normalize(view, g10, negative, out.data()); }, "negative threads");
}

}  // namespace

int main() {
  test_geometry();
  test_pixel_helpers();
  test_against_reference();
  test_strided_views_and_threads();
  test_validation();
  test_direct_pixel_path_equals_cpu_kernels();
  test_constants_and_runtime();
  test_cuda_dispatch();
  test_preprocess();
  return ps_test::report();
}
