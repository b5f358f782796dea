// Internal to the .cu files of src/cpp/src/cuda/: the CUDA error check and the scope guards
// (current device, stream synchronisation) that every call of the kernels uses.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace person_segmentation::cuda_common {

inline std::string error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear a non-sticky error so that later calls are not blamed for it
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + error_text(status));
  }
}

/// Sets the current device for a scope when it is not already the current one, and restores
/// the previous one only then (setting a device creates its context).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) {
      check(cudaSetDevice(device), "cudaSetDevice");
      changed_ = true;
    }
  }
  ~DeviceScope() {
    if (changed_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

/// Synchronises the stream when it goes out of scope, on success and on every error path.
class StreamSync {
 public:
  explicit StreamSync(cudaStream_t stream) : stream_(stream) {}
  ~StreamSync() { cudaStreamSynchronize(stream_); }
  StreamSync(const StreamSync&) = delete;
  StreamSync& operator=(const StreamSync&) = delete;

 private:
  cudaStream_t stream_;
};

}  // namespace person_segmentation::cuda_common
