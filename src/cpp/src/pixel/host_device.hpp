// PS_HOST_DEVICE marks the per-pixel functions of pixel/ that both the CPU loops (host C++)
// and the CUDA kernels (nvcc) compile, so that the two paths share one definition.
#pragma once

#if defined(__CUDACC__)
#define PS_HOST_DEVICE __host__ __device__
#else
#define PS_HOST_DEVICE
#endif
