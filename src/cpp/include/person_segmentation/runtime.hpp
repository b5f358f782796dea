// What this build of the core is and what it can use at run time: its version, whether the
// CUDA kernels are compiled in, the usable GPUs and the default thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace person_segmentation {

/// The version of the compiled core, e.g. "0.1.0" (PERSON_SEGMENTATION_VERSION when it was
/// built; version.hpp has the version of the headers).
const char* version();

/// What this build of the library contains (version, compiler, threads, CUDA), e.g.
/// "person_segmentation 0.1.0, gcc 12.2, cpu threads 8, no CUDA".
std::string build_summary();

/// Whether the CUDA kernels were compiled into this build.
bool cuda_compiled();

/// Usable CUDA devices: 0 without CUDA support, a driver or a device (never throws).
int32_t cuda_device_count();

/// The CUDA runtime this build links and what it finds at run time.
struct CudaRuntimeInfo {
  /// The CUDA runtime version this build links, e.g. 13000 for 13.0; 0 without CUDA support.
  int32_t runtime_version = 0;
  /// The installed driver's CUDA version (cudaDriverGetVersion), e.g. 12080; 0 without a
  /// driver (or CUDA support).
  int32_t driver_version = 0;
  /// Devices the runtime sees, and how many of them can run the kernels (each probed).
  int32_t devices = 0;
  int32_t usable_devices = 0;
  /// Empty when at least one device is usable, else why none is (e.g. the driver is older
  /// than the runtime needs: "CUDA 13.x needs a driver of R580 or newer").
  std::string unavailable_reason;
};

/// What the CUDA runtime finds (never throws; the device probe runs once and is cached).
CudaRuntimeInfo cuda_runtime_info();

/// Device memory on CUDA device `device` for a result left there (output_device kCuda), and
/// its release (which waits for the work still using it). allocate_cuda_result throws
/// std::runtime_error (no CUDA support, no such usable device, out of memory).
void* allocate_cuda_result(size_t bytes, int32_t device);
void free_cuda_result(void* pointer, int32_t device) noexcept;

/// The number of worker threads `num_threads = 0` resolves to on this machine.
int32_t default_num_threads();

}  // namespace person_segmentation
