// Sweep of the score function (pixel::score_of_logit, the IEEE-only sigmoid of
// pixel/postprocess_pixel.hpp) over float32 logits, against
//   - the previous sigmoid through the C library's exp (glibc), pixel::sigmoid_libm, and
//   - a long double reference (1 / (1 + expl(-x)) rounded to float32; 64-bit mantissa on x86).
// Every 2^32 bit pattern with --stride 1 (minutes on one core, seconds on 16), or every
// stride-th one (CTest runs a sample). Prints the counts of differing results and the largest
// difference in float32 ulps; fails when the IEEE-only score differs from either by more than
// --max-ulp (default 1), or is not in [0, 1] (NaN logits score -1).
//
//   sweep_score [--stride N] [--threads T] [--max-ulp U]
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pixel/postprocess_pixel.hpp"

namespace {

namespace pixel = person_segmentation::pixel;

float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// Position of a float on the number line in ulps (monotonic, +0 == -0).
int64_t ordinal(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i < 0 ? -static_cast<int64_t>(i & 0x7fffffff) : static_cast<int64_t>(i);
}

int64_t ulps(float a, float b) {
  const int64_t d = ordinal(a) - ordinal(b);
  return d < 0 ? -d : d;
}

float reference(float x) {
  if (std::isnan(x)) return -1.0f;
  return static_cast<float>(1.0L / (1.0L + std::exp(-static_cast<long double>(x))));
}

float old_score(float x) { return std::isnan(x) ? -1.0f : pixel::sigmoid_libm(x); }

struct Tally {
  uint64_t values = 0;
  uint64_t differ_old = 0, differ_ref = 0, old_differ_ref = 0, out_of_range = 0;
  int64_t max_ulp_old = 0, max_ulp_ref = 0, old_max_ulp_ref = 0;
  float worst_old = 0.0f, worst_ref = 0.0f;
  void add(const Tally& t) {
    values += t.values;
    differ_old += t.differ_old;
    differ_ref += t.differ_ref;
    old_differ_ref += t.old_differ_ref;
    out_of_range += t.out_of_range;
    if (t.max_ulp_old > max_ulp_old) max_ulp_old = t.max_ulp_old, worst_old = t.worst_old;
    if (t.max_ulp_ref > max_ulp_ref) max_ulp_ref = t.max_ulp_ref, worst_ref = t.worst_ref;
    if (t.old_max_ulp_ref > old_max_ulp_ref) old_max_ulp_ref = t.old_max_ulp_ref;
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t stride = 1;
  unsigned threads = std::thread::hardware_concurrency();
  int64_t max_ulp = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--stride")
      stride = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--threads")
      threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--max-ulp")
      max_ulp = std::strtoll(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: sweep_score [--stride N] [--threads T] [--max-ulp U]\n");
      return 2;
    }
  }
  if (stride == 0) stride = 1;
  if (threads == 0) threads = 1;
  const uint64_t total = (uint64_t{1} << 32);
  std::atomic<uint64_t> next{0};
  constexpr uint64_t kChunk = uint64_t{1} << 22;
  Tally all;
  std::mutex lock;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      Tally mine;
      for (;;) {
        const uint64_t begin = next.fetch_add(kChunk);
        if (begin >= total) break;
        const uint64_t end = begin + kChunk < total ? begin + kChunk : total;
        for (uint64_t u = (begin + stride - 1) / stride * stride; u < end; u += stride) {
          const float x = from_bits(static_cast<uint32_t>(u));
          const float s = pixel::score_of_logit(x);
          const float o = old_score(x);
          const float r = reference(x);
          ++mine.values;
          if (!(s == -1.0f || (s >= 0.0f && s <= 1.0f)) || (std::isnan(x) != (s == -1.0f))) ++mine.out_of_range;
          const int64_t d_old = ulps(s, o), d_ref = ulps(s, r), o_ref = ulps(o, r);
          if (d_old) ++mine.differ_old;
          if (d_ref) ++mine.differ_ref;
          if (o_ref) ++mine.old_differ_ref;
          if (d_old > mine.max_ulp_old) mine.max_ulp_old = d_old, mine.worst_old = x;
          if (d_ref > mine.max_ulp_ref) mine.max_ulp_ref = d_ref, mine.worst_ref = x;
          if (o_ref > mine.old_max_ulp_ref) mine.old_max_ulp_ref = o_ref;
        }
      }
      std::lock_guard<std::mutex> guard(lock);
      all.add(mine);
    });
  }
  for (auto& th : pool) th.join();
  std::printf("sweep_score: %" PRIu64 " float32 logits (every %" PRIu64 "th bit pattern)\n", all.values, stride);
  std::printf("  IEEE-only score vs glibc sigmoid:        %" PRIu64 " differ, max %" PRId64 " ulp (at %a)\n",
              all.differ_old, all.max_ulp_old, static_cast<double>(all.worst_old));
  std::printf("  IEEE-only score vs long double reference: %" PRIu64 " differ, max %" PRId64 " ulp (at %a)\n",
              all.differ_ref, all.max_ulp_ref, static_cast<double>(all.worst_ref));
  std::printf("  glibc sigmoid vs long double reference:   %" PRIu64 " differ, max %" PRId64 " ulp\n",
              all.old_differ_ref, all.old_max_ulp_ref);
  std::printf("  outside [0, 1] (or NaN not -1): %" PRIu64 "\n", all.out_of_range);
  const bool ok = all.out_of_range == 0 && all.max_ulp_old <= max_ulp && all.max_ulp_ref <= max_ulp;
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
