// CUDA kernels vs CPU kernels, bit for bit, on a machine with a CUDA device (exit code 77,
// which CTest reports as skipped, where there is none): random and edge-case logits (NaN,
// infinities, ties, huge and subnormal values), 1-pixel and 8000x6000 outputs, host and
// device-resident logits, strided device views in every axis order (and negative strides),
// results copied to the host and left on the device, a caller's stream, and misaligned or host
// pointers rejected without harming the context. compute-sanitizer runs this binary in
// scripts/gpu-check.sh.
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"
#include "cuda_check.hpp"
#include "person_segmentation/person_segmentation.hpp"

namespace ps = person_segmentation;

namespace {

using ps_test::check;
using ps_test::cuda_ok;
using ps_test::DeviceCopy;

/// Logits with edge cases mixed in: NaN, +-inf, ties, huge, subnormal and zero values.
std::vector<float> logits(std::mt19937& rng, size_t count, bool edge_cases) {
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> v(count);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            1e-45f,
                            -1e-40f,
                            88.0f,
                            -104.0f,
                            3e38f,
                            -3e38f,
                            1.0f};
  std::uniform_int_distribution<int> pick(0, 11), coin(0, 7);
  for (auto& x : v) x = edge_cases && coin(rng) == 0 ? specials[pick(rng)] : normal(rng);
  if (edge_cases)  // ties: runs of equal values
    for (size_t i = 0; i + 3 < count; i += 17) v[i + 1] = v[i + 2] = v[i];
  return v;
}

struct Case {
  int image_h, image_w, grid_h, grid_w, parts;
  bool edge_cases, flip;
  float threshold;
};

/// The CPU result and the CUDA ones (host logits uploaded; device logits; result on device).
void compare(const Case& c, std::mt19937& rng) {
  const auto g = ps::compute_geometry(c.image_h, c.image_w);
  const int ch = 1 + c.parts;
  const std::vector<float> host = logits(rng, static_cast<size_t>(c.grid_h) * c.grid_w * ch, c.edge_cases);
  const auto seg = ps::FloatTensorView{host.data(), c.grid_h, c.grid_w, 1, c.grid_w * ch, ch, 1};
  const auto prt = ps::FloatTensorView{host.data() + 1, c.grid_h, c.grid_w, c.parts, c.grid_w * ch, ch, 1};
  ps::PostprocessOptions cpu;
  cpu.segmentation_threshold = c.threshold;
  cpu.flip_horizontal = c.flip;
  const size_t pixels = static_cast<size_t>(c.image_h) * c.image_w;
  std::vector<uint8_t> mask_cpu(pixels), mask_gpu(pixels);
  std::vector<int32_t> parts_cpu(pixels), parts_gpu(pixels);
  ps::person_mask(seg, g, cpu, mask_cpu.data());
  ps::part_segmentation(seg, prt, g, cpu, parts_cpu.data());
  const std::string name = std::to_string(c.image_h) + "x" + std::to_string(c.image_w) + " grid " +
                           std::to_string(c.grid_h) + "x" + std::to_string(c.grid_w) + " parts " +
                           std::to_string(c.parts) + (c.edge_cases ? " edge cases" : "") + (c.flip ? " flipped" : "");

  ps::PostprocessOptions up = cpu;
  up.compute_device = ps::Device::kCuda;
  ps::person_mask(seg, g, up, mask_gpu.data());
  ps::part_segmentation(seg, prt, g, up, parts_gpu.data());
  check(mask_gpu == mask_cpu, "uploaded logits, mask: " + name);
  check(parts_gpu == parts_cpu, "uploaded logits, parts: " + name);

  DeviceCopy dev(host);
  auto dseg = seg, dprt = prt;
  dseg.data = dev.f();
  dprt.data = dev.f() + 1;
  dseg.device = dprt.device = ps::Device::kCuda;
  std::fill(mask_gpu.begin(), mask_gpu.end(), 7);
  std::fill(parts_gpu.begin(), parts_gpu.end(), 99);
  ps::person_mask(dseg, g, cpu, mask_gpu.data());
  ps::part_segmentation(dseg, dprt, g, cpu, parts_gpu.data());
  check(mask_gpu == mask_cpu, "device logits, mask: " + name);
  check(parts_gpu == parts_cpu, "device logits, parts: " + name);

  // Left on the device.
  DeviceCopy out_mask(pixels), out_parts(pixels * sizeof(int32_t));
  ps::PostprocessOptions keep = cpu;
  keep.output_device = ps::Device::kCuda;
  ps::person_mask(dseg, g, keep, static_cast<uint8_t*>(out_mask.ptr));
  ps::part_segmentation(dseg, dprt, g, keep, static_cast<int32_t*>(out_parts.ptr));
  cuda_ok(cudaMemcpy(mask_gpu.data(), out_mask.ptr, pixels, cudaMemcpyDeviceToHost), "cudaMemcpy");
  cuda_ok(cudaMemcpy(parts_gpu.data(), out_parts.ptr, pixels * 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
  check(mask_gpu == mask_cpu, "result on device, mask: " + name);
  check(parts_gpu == parts_cpu, "result on device, parts: " + name);
}

/// The same logits in every axis order in memory (and with padding and negative strides).
void every_stride(std::mt19937& rng) {
  const int h = 23, w = 17, parts = 24, ch = 25;
  const std::vector<float> compact = logits(rng, static_cast<size_t>(h) * w * ch, true);
  const auto g = ps::compute_geometry(480, 640);
  ps::PostprocessOptions cpu;
  std::vector<int32_t> expected(480 * 640), got(480 * 640);
  ps::part_segmentation(ps::FloatTensorView{compact.data(), h, w, 1, w * ch, ch, 1},
                        ps::FloatTensorView{compact.data() + 1, h, w, parts, w * ch, ch, 1}, g, cpu, expected.data());
  const std::array<int, 3> sizes = {h, w, ch};
  std::array<int, 3> order = {0, 1, 2};
  do {
    for (int pad : {0, 3}) {
      for (bool reverse_rows : {false, true}) {
        // Element strides of axis order[0] (outermost) .. order[2] (innermost), padded.
        std::array<int64_t, 3> stride{};
        int64_t step = 1;
        for (int i = 2; i >= 0; --i) {
          stride[order[i]] = step;
          step *= sizes[order[i]] + (i == 2 ? 0 : pad);
        }
        std::vector<float> laid(static_cast<size_t>(step) + 8, std::nanf(""));
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x)
            for (int k = 0; k < ch; ++k)
              laid[y * stride[0] + x * stride[1] + k * stride[2]] = compact[(static_cast<size_t>(y) * w + x) * ch + k];
        DeviceCopy dev(laid);
        const float* base = dev.f();
        int64_t sh = stride[0];
        if (reverse_rows) {  // row 0 is the last one in memory
          base += (h - 1) * stride[0];
          sh = -stride[0];
        }
        ps::FloatTensorView seg{base, h, w, 1, sh, stride[1], stride[2], ps::Device::kCuda};
        ps::FloatTensorView prt{base + stride[2], h, w, parts, sh, stride[1], stride[2], ps::Device::kCuda};
        std::fill(got.begin(), got.end(), 99);
        ps::part_segmentation(seg, prt, g, cpu, got.data());
        check(got == expected, "device view with axis order " + std::to_string(order[0]) + std::to_string(order[1]) +
                                   std::to_string(order[2]) + " pad " + std::to_string(pad) +
                                   (reverse_rows ? " negative row stride" : ""));
      }
    }
  } while (std::next_permutation(order.begin(), order.end()));
}

void streams_and_rejections(std::mt19937& rng) {
  const std::vector<float> host = logits(rng, 23 * 17 * 25, false);
  DeviceCopy dev(host);
  const auto g = ps::compute_geometry(100, 80);
  std::vector<int32_t> expected(100 * 80), got(100 * 80);
  ps::PostprocessOptions cpu;
  ps::part_segmentation(ps::FloatTensorView{host.data(), 23, 17, 1, 17 * 25, 25, 1},
                        ps::FloatTensorView{host.data() + 1, 23, 17, 24, 17 * 25, 25, 1}, g, cpu, expected.data());
  ps::FloatTensorView seg{dev.f(), 23, 17, 1, 17 * 25, 25, 1, ps::Device::kCuda};
  ps::FloatTensorView prt{dev.f() + 1, 23, 17, 24, 17 * 25, 25, 1, ps::Device::kCuda};
  // The caller's stream; a wrong device_id (the producer's own numbering) is not trusted.
  cudaStream_t stream;
  cuda_ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  ps::PostprocessOptions on_stream;
  on_stream.cuda_stream = stream;
  on_stream.logits_ready_on_stream = true;
  seg.device_id = prt.device_id = 5;
  ps::part_segmentation(seg, prt, g, on_stream, got.data());
  check(got == expected, "caller's stream, device from the pointer (device_id 5 ignored)");
  cudaStreamDestroy(stream);
  seg.device_id = prt.device_id = 0;
  // Misaligned: rejected before any kernel runs, and the context is still fine after.
  auto bad = seg;
  bad.data = reinterpret_cast<const float*>(reinterpret_cast<const char*>(dev.f()) + 2);
  bool rejected = false;
  try {
    ps::person_mask(bad, g, cpu, reinterpret_cast<uint8_t*>(got.data()));
  } catch (const std::invalid_argument&) {
    rejected = true;
  }
  check(rejected, "misaligned device pointer rejected");
  // Host memory claimed to be device memory: rejected (cudaPointerGetAttributes).
  auto fake = seg;
  fake.data = host.data();
  rejected = false;
  try {
    ps::person_mask(fake, g, cpu, reinterpret_cast<uint8_t*>(got.data()));
  } catch (const std::invalid_argument&) {
    rejected = true;
  }
  check(rejected, "host memory as Device::kCuda rejected");
  std::fill(got.begin(), got.end(), 99);
  ps::part_segmentation(seg, prt, g, cpu, got.data());
  check(got == expected, "the context survives the rejections");
  check(cudaGetLastError() == cudaSuccess, "no CUDA error left behind");
}

/// Item 5: a large output while all but 64 MiB of the device's memory is held (as TensorFlow
/// holds all but a little): the host result is computed in stripes through a bounded buffer.
void large_output_under_memory_pressure(std::mt19937& rng) {
  const std::vector<float> host = logits(rng, 45 * 33 * 25, false);
  const auto g = ps::compute_geometry(8000, 6000);
  ps::FloatTensorView seg{host.data(), 45, 33, 1, 33 * 25, 25, 1};
  ps::FloatTensorView prt{host.data() + 1, 45, 33, 24, 33 * 25, 25, 1};
  ps::PostprocessOptions cpu;
  std::vector<int32_t> expected(8000 * 6000), got(8000 * 6000, 99);
  ps::part_segmentation(seg, prt, g, cpu, expected.data());
  size_t free_bytes = 0, total = 0;
  cuda_ok(cudaMemGetInfo(&free_bytes, &total), "cudaMemGetInfo");
  void* hog = nullptr;
  const size_t keep = size_t{64} << 20;
  if (free_bytes > keep && cudaMalloc(&hog, free_bytes - keep) != cudaSuccess) {
    cudaGetLastError();
    hog = nullptr;
  }
  ps::PostprocessOptions up = cpu;
  up.compute_device = ps::Device::kCuda;
  bool ok = true;
  try {
    ps::part_segmentation(seg, prt, g, up, got.data());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    ok = false;
  }
  cudaFree(hog);
  check(ok && got == expected, "8000x6000 part map with all but 64 MiB of device memory held");
}

}  // namespace

int main() {
  const ps::CudaRuntimeInfo info = ps::cuda_runtime_info();
  std::printf("CUDA runtime %d, driver %d, devices %d, usable %d %s\n", info.runtime_version, info.driver_version,
              info.devices, info.usable_devices, info.unavailable_reason.c_str());
  if (ps::cuda_device_count() == 0) {
    std::printf("no usable CUDA device: skipped\n");
    return 77;
  }
  std::mt19937 rng(14);
  const Case cases[] = {
      {480, 640, 23, 17, 24, false, false, 0.5f},  {480, 640, 23, 17, 24, true, true, 0.3f},
      {640, 480, 45, 33, 24, true, false, 0.5f},   {1, 1, 23, 17, 24, true, false, 0.5f},
      {1, 1, 1, 1, 1, true, true, 0.5f},           {1, 300, 12, 9, 32, true, false, 0.7f},
      {1080, 1920, 23, 17, 24, true, true, 0.5f},  {37, 1000, 2, 2, 3, false, false, 0.5f},
      {8000, 6000, 45, 33, 24, true, false, 0.5f}, {2160, 3840, 23, 17, 24, false, false, -INFINITY},
  };
  // PS_TEST_CUDA_QUICK (under compute-sanitizer): without the two largest outputs.
  const bool quick = std::getenv("PS_TEST_CUDA_QUICK") != nullptr;
  for (const Case& c : cases)
    if (!quick || static_cast<int64_t>(c.image_h) * c.image_w < 4000000) compare(c, rng);
  every_stride(rng);
  streams_and_rejections(rng);
  if (!quick) large_output_under_memory_pressure(rng);
  return ps_test::report();
}
