// The run-time queries of runtime.hpp. Whether CUDA is compiled in is the CUDA interface's
// answer (cuda/postprocess_cuda.cu, or cuda/postprocess_cuda_stub.cpp without CUDA).
#include "person_segmentation/runtime.hpp"

#include <sstream>
#include <thread>

#include "cuda/postprocess_cuda.hpp"

// Set by CMake from src/python/person_segmentation/_version.py.
#ifndef PERSON_SEGMENTATION_VERSION
#error "PERSON_SEGMENTATION_VERSION must be defined (CMake passes it to the core)"
#endif

namespace person_segmentation {

const char* version() { return PERSON_SEGMENTATION_VERSION; }

int32_t default_num_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int32_t>(n);
}

bool cuda_compiled() { return cuda::compiled(); }

int32_t cuda_device_count() { return cuda::device_count(); }

CudaRuntimeInfo cuda_runtime_info() { return cuda::runtime_info(); }

void* allocate_cuda_result(size_t bytes, int32_t device) { return cuda::allocate(bytes, device); }

void free_cuda_result(void* pointer, int32_t device) noexcept { cuda::release(pointer, device); }

std::string build_summary() {
  std::ostringstream s;
  s << "person_segmentation " << version()
#if defined(__clang__)
    << ", clang " << __clang_major__ << "." << __clang_minor__
#elif defined(__GNUC__)
    << ", gcc " << __GNUC__ << "." << __GNUC_MINOR__
#elif defined(_MSC_VER)
    << ", msvc " << _MSC_VER
#endif
    << ", cpu threads " << default_num_threads() << (cuda_compiled() ? ", CUDA compiled in" : ", no CUDA");
  return s.str();
}

}  // namespace person_segmentation
