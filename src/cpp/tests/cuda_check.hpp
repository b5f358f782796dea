// The CUDA tests' helpers: cuda_ok() ends the test on a CUDA error, and DeviceCopy holds
// device memory (a copy of host floats, or a number of bytes) freed at scope exit.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ps_test {

inline void cuda_ok(cudaError_t st, const char* what) {
  if (st != cudaSuccess) {
    std::fprintf(stderr, "CUDA error in %s: %s\n", what, cudaGetErrorString(st));
    std::exit(1);
  }
}

/// Device memory holding a copy of `host` (or `bytes` bytes), freed at scope exit.
struct DeviceCopy {
  void* ptr = nullptr;
  explicit DeviceCopy(size_t bytes) { cuda_ok(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes), "cudaMalloc"); }
  explicit DeviceCopy(const std::vector<float>& host) : DeviceCopy(host.size() * sizeof(float)) {
    cuda_ok(cudaMemcpy(ptr, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceCopy() { cudaFree(ptr); }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
  float* f() const { return static_cast<float*>(ptr); }
};

}  // namespace ps_test
