// The score function (pixel::score_of_logit) on the GPU against the host, for every one of
// the 2^32 float32 bit patterns (or every --stride-th), bit for bit: the IEEE-only sigmoid
// must give the same bits on both (issue 14, item 7). Exit code 77 (skipped) without a device.
//
//   sweep_score_cuda [--stride N] [--threads T]
#include <cuda_runtime.h>

#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pixel/postprocess_pixel.hpp"

namespace pixel = person_segmentation::pixel;

__global__ void score_kernel(uint64_t first, uint64_t stride, uint64_t count, float* out) {
  const uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const uint32_t bits = static_cast<uint32_t>(first + i * stride);
  out[i] = pixel::score_of_logit(__uint_as_float(bits));
}

int main(int argc, char** argv) {
  uint64_t stride = 1;
  unsigned threads = std::thread::hardware_concurrency();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--stride") stride = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--threads") threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  if (stride == 0) stride = 1;
  if (threads == 0) threads = 1;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("sweep_score_cuda: no CUDA device: skipped\n");
    return 77;
  }
  const uint64_t total = ((uint64_t{1} << 32) + stride - 1) / stride;
  const uint64_t chunk = uint64_t{1} << 26;
  float *device = nullptr, *host = nullptr;
  if (cudaMalloc(&device, chunk * sizeof(float)) != cudaSuccess ||
      cudaMallocHost(&host, chunk * sizeof(float)) != cudaSuccess) {
    std::printf("sweep_score_cuda: allocation failed\nFAIL\n");
    return 1;
  }
  std::atomic<uint64_t> mismatches{0};
  uint64_t first_mismatch = UINT64_MAX;
  for (uint64_t begin = 0; begin < total; begin += chunk) {
    const uint64_t count = begin + chunk < total ? chunk : total - begin;
    score_kernel<<<static_cast<unsigned>((count + 255) / 256), 256>>>(begin * stride, stride, count, device);
    if (cudaMemcpy(host, device, count * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
      std::printf("sweep_score_cuda: %s\nFAIL\n", cudaGetErrorString(cudaGetLastError()));
      return 1;
    }
    std::vector<std::thread> pool;
    std::vector<uint64_t> firsts(threads, UINT64_MAX);
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        uint64_t bad = 0;
        for (uint64_t i = t; i < count; i += threads) {
          const uint32_t bits = static_cast<uint32_t>((begin + i) * stride);
          float x;
          std::memcpy(&x, &bits, sizeof x);
          const float want = pixel::score_of_logit(x);
          if (std::memcmp(&want, &host[i], sizeof want) != 0) {
            ++bad;
            if (firsts[t] == UINT64_MAX) firsts[t] = bits;
          }
        }
        mismatches += bad;
      });
    }
    for (auto& th : pool) th.join();
    for (uint64_t f : firsts) first_mismatch = f < first_mismatch ? f : first_mismatch;
  }
  std::printf("sweep_score_cuda: %" PRIu64 " float32 logits (every %" PRIu64 "th bit pattern), GPU vs CPU: %" PRIu64
              " differ",
              total, stride, mismatches.load());
  if (mismatches) std::printf(" (first at bits 0x%08" PRIx64 ")", first_mismatch);
  std::printf("\n%s\n", mismatches ? "FAIL" : "PASS");
  cudaFree(device);
  cudaFreeHost(host);
  return mismatches ? 1 : 0;
}
