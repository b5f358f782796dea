// What this build of the core is and what it can use at run time: its version, whether the
// CUDA kernels are compiled in, the usable GPUs and the default thread count.
#pragma once

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

/// The number of worker threads `num_threads = 0` resolves to on this machine.
int32_t default_num_threads();

}  // namespace person_segmentation
