// The AVX2 kernels of the BodyPix 2 CPU loops: this file alone is compiled with -mavx2 (CMake), and runs
// only where the CPU has it (bodypix_cpu.cpp checks).
#include "cpu/bodypix_simd_kernels.hpp"

namespace person_segmentation::bodypix::cpu::simd {

void assign_avx2(const InstanceKernel& kernel, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row) {
  assign_row<Avx2>(kernel, row, columns, count, out_row);
}

void part_argmax_avx2(const float* const* corners, const double* fc, int32_t count, double fr, int32_t* out) {
  for (int32_t q = 0; q < count; ++q) {
    __m256 v[3];
    part_values_avx2(corners + 4 * q, fc[q], fr, v);
    out[q] = argmax24(v);
  }
}

int32_t part_dominance_avx2(const float* const* cells, float* least, float* rival) {
  return dominance24(cells, least, rival);
}

}  // namespace person_segmentation::bodypix::cpu::simd
