// The instance decoder's AVX2 kernel: this file alone is compiled with -mavx2 (CMake), and runs
// only where the CPU has it (bodypix_cpu.cpp checks).
#include "cpu/bodypix_instances_kernel.hpp"

namespace person_segmentation::bodypix::cpu::simd {

void assign_avx2(const InstanceKernel& kernel, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row) {
  assign_row<Avx2>(kernel, row, columns, count, out_row);
}

}  // namespace person_segmentation::bodypix::cpu::simd
