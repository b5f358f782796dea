// <immintrin.h> for the x86 SIMD code of the CPU loops. GCC 12 warns inside its own AVX-512
// headers (their _mm512_undefined_* helpers read an uninitialised variable on purpose): that is
// silenced for the header's lines only.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
