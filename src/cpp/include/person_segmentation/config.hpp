// Compile-time configuration shared by every translation unit (host C++ and CUDA).
#pragma once

#if defined(__CUDACC__)
#define PS_HOST_DEVICE __host__ __device__
#else
#define PS_HOST_DEVICE
#endif

#define PERSON_SEGMENTATION_VERSION_MAJOR 0
#define PERSON_SEGMENTATION_VERSION_MINOR 1
#define PERSON_SEGMENTATION_VERSION_PATCH 0
