// The SIMD kernels of the BodyPix 2 CPU loops: the instance decoder (spec/BODYPIX2.md section
// 11) and the parts argmax of the scale-back (section 8), each instruction set in its own
// translation unit compiled for it (bodypix_simd_avx512.cpp, bodypix_simd_avx2.cpp);
// bodypix_cpu.cpp calls them only where the CPU has it (runtime dispatch), else its scalar loops.
//
// This header is all those translation units share with the rest of the core: plain data and
// two functions, nothing inline (an inline function compiled there with AVX-512 could be the
// copy the linker keeps for everybody, and crash a CPU without it).
#pragma once

#include <cstdint>

namespace person_segmentation::bodypix::cpu::simd {

/// The matching keypoints: nose, eyes, ears (section 11).
inline constexpr int32_t kMaxSlots = 5;

/// One person that uses at least one slot (a person that uses none has distance +inf
/// everywhere and can never win: it is left out).
struct InstancePerson {
  double index;         // its index in the people list (the result), as float64
  double count;         // how many of its keypoints it uses (> 0)
  double y[kMaxSlots];  // its keypoint position per slot (image pixels)
  double x[kMaxSlots];
  uint8_t uses[kMaxSlots];  // whether it uses the slot's keypoint (score > 0.3)
};

/// Everything a kernel reads. Slots are the keypoints 0..4 that at least one person uses, in
/// ascending order (the embeddings of the others never enter a distance: they are not
/// computed); tables[s][n] holds the long offsets of slot s's keypoint at flat cell n as a pair
/// of float32 bit patterns, dy in the low 32 bits and dx in the high ones, so that one gather
/// fetches both.
struct InstanceKernel {
  double scale_x, scale_y;  // as bodypix_pixel::InstanceParams
  double pad_top, pad_left;
  double inverse_stride;  // 1 / outputStride (a power of two: multiplying is dividing exactly)
  double flat_width;
  double cells;  // < 2^31 (the kernels index with int32)
  double max_y, max_x;
  int32_t refine_steps;
  int32_t num_slots;  // 1..kMaxSlots
  const uint64_t* tables[kMaxSlots];
  const InstancePerson* people;
  int64_t num_people;  // >= 1
};

/// Assigns the `count` pixels (row, columns[q]) of one row: out_row[columns[q]] = the person
/// index, or -1. Needs AVX-512F (assign_avx512) or AVX2 (assign_avx2).
void assign_avx512(const InstanceKernel& kernel, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row);
void assign_avx2(const InstanceKernel& kernel, int32_t row, const int32_t* columns, int32_t count, int32_t* out_row);

/// The scale-back's part of `count` person pixels of one image row: for pixel q, the tfjs argmax
/// (first index wins ties, NaN never wins, a NaN at index 0 keeps 0) over the 24 parts of
/// f32(blend(tl[k], tr[k], bl[k], br[k], fc[q], fr)) (bodypix_pixel::blend), where
/// corners[4q .. 4q + 3] = tl, tr, bl, br point at 24 input-resolution float32 part scores.
void part_argmax_avx512(const float* const* corners, const double* fc, int32_t count, double fr, int32_t* out);
void part_argmax_avx2(const float* const* corners, const double* fc, int32_t count, double fr, int32_t* out);

/// The scale-back's dominance test of four input cells (cells[0..3], 24 part logits each; see
/// dominant_part in bodypix_cpu.cpp): -1 if a logit is NaN, else the first part k* with the
/// greatest least logit over the cells, *least that logit, *rival the greatest logit of the
/// other parts over the cells.
int32_t part_dominance_avx512(const float* const* cells, float* least, float* rival);
int32_t part_dominance_avx2(const float* const* cells, float* least, float* rival);

}  // namespace person_segmentation::bodypix::cpu::simd
