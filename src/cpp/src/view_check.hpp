// Checks shared by the validation of every entry point: strided views (logits and images)
// and the thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "person_segmentation/postprocess.hpp"
#include "person_segmentation/runtime.hpp"

namespace person_segmentation::detail {

inline std::string triple(const int64_t v[3]) {
  std::ostringstream s;
  s << "(" << v[0] << ", " << v[1] << ", " << v[2] << ")";
  return s.str();
}

/// Checks that a (sizes[0], sizes[1], sizes[2]) view with element `strides` of
/// `element_bytes`-byte elements can be addressed: the farthest elements, computed exactly
/// (every per-axis reach (size - 1) * |stride| and their sums), keep any byte offset within
/// ptrdiff_t, and, when `extent` is not -1, lie inside the buffer of `extent` elements that
/// the data pointer enters at `data_offset`. An axis of size 1 is only ever indexed with 0,
/// so its stride may be anything. Throws std::invalid_argument naming `name`.
inline void check_addressable(const std::string& name, const int64_t sizes[3], const int64_t strides[3],
                              int64_t element_bytes, int64_t extent, int64_t data_offset) {
  const uint64_t limit = static_cast<uint64_t>(
      std::min<int64_t>(std::numeric_limits<int64_t>::max(), std::numeric_limits<std::ptrdiff_t>::max()) /
      element_bytes);
  uint64_t below = 0;  // how far the lowest element lies before data
  uint64_t above = 0;  // how far the highest element lies after data
  for (int axis = 0; axis < 3; ++axis) {
    if (sizes[axis] == 1) continue;
    const int64_t s = strides[axis];
    const uint64_t magnitude = s < 0 ? uint64_t{0} - static_cast<uint64_t>(s) : static_cast<uint64_t>(s);
    const uint64_t steps = static_cast<uint64_t>(sizes[axis] - 1);
    if (magnitude > (limit - below - above) / steps)
      throw std::invalid_argument(name + " has strides too large to address: strides " + triple(strides) +
                                  " for shape " + triple(sizes));
    (s < 0 ? below : above) += magnitude * steps;
  }

  if (extent == -1) {
    if (data_offset != 0)
      throw std::invalid_argument(name + ".data_offset must be 0 when the extent is unknown (-1), got " +
                                  std::to_string(data_offset));
    return;
  }
  if (extent < 0)
    throw std::invalid_argument(name + ".extent must be -1 (unknown) or >= 0, got " + std::to_string(extent));
  if (data_offset < 0 || data_offset >= extent)
    throw std::invalid_argument(name + ".data_offset must be in [0, extent = " + std::to_string(extent) + "), got " +
                                std::to_string(data_offset));
  // Addressed: [data_offset - below, data_offset + above]; the buffer: [0, extent).
  const uint64_t offset = static_cast<uint64_t>(data_offset);
  if (below > offset || above >= static_cast<uint64_t>(extent) - offset) {
    std::ostringstream s;
    s << name << " with shape " << triple(sizes) << " and strides " << triple(strides) << " addresses elements ["
      << data_offset << " - " << below << ", " << data_offset << " + " << above
      << "] of its buffer, outside its extent [0, " << extent << ")";
    throw std::invalid_argument(s.str());
  }
}

/// The threads a `num_threads` option asks for: itself, or one per hardware thread for 0; an
/// explicit count above max(256, hardware threads) buys nothing and is capped there.
inline int64_t requested_threads(int32_t num_threads, int64_t hardware) {
  constexpr int64_t kMaxThreads = 256;
  return std::min<int64_t>(num_threads > 0 ? num_threads : hardware, std::max(kMaxThreads, hardware));
}

/// Throws std::invalid_argument unless `num_threads` is >= 0 (0 = automatic).
inline void check_num_threads(int32_t num_threads) {
  if (num_threads < 0)
    throw std::invalid_argument("num_threads must be >= 0 (0 = automatic), got " + std::to_string(num_threads));
}

/// Threads a loop over `work` items uses: requested_threads (hardware threads: the default
/// thread count), but never so many that a thread gets less than `per_thread` items
/// (starting one costs tens of microseconds).
inline int32_t thread_count(int32_t num_threads, int64_t work, int64_t per_thread) {
  const int64_t useful = std::max<int64_t>(1, work / per_thread);
  return static_cast<int32_t>(std::min(requested_threads(num_threads, default_num_threads()), useful));
}

/// Checks where a float32 view lives: its device (kCpu with device_id 0, or kCuda with
/// device_id >= 0) and a non-null data pointer aligned to a float (a misaligned float read is
/// undefined on the CPU, and on a GPU a sticky error that ends the process's CUDA context,
/// shared with the framework that made the tensor). Throws std::invalid_argument naming `n`.
inline void check_placement(const FloatTensorView& t, const std::string& n) {
  if (t.device != Device::kCpu && t.device != Device::kCuda)
    throw std::invalid_argument(n + ".device must be Device::kCpu (0) or Device::kCuda (1), got " +
                                std::to_string(static_cast<int32_t>(t.device)));
  if (t.device == Device::kCpu && t.device_id != 0)
    throw std::invalid_argument(n + ".device_id must be 0 for a CPU tensor, got " + std::to_string(t.device_id));
  if (t.device_id < 0) throw std::invalid_argument(n + ".device_id must be >= 0, got " + std::to_string(t.device_id));
  if (t.data == nullptr) throw std::invalid_argument(n + " has no data (null pointer)");
  const uintptr_t address = reinterpret_cast<uintptr_t>(t.data);
  if (address % alignof(float) != 0)
    throw std::invalid_argument(n + ".data must be aligned to " + std::to_string(alignof(float)) +
                                " bytes (float32), got address " + std::to_string(address) + " (misaligned by " +
                                std::to_string(address % alignof(float)) + ")");
}

}  // namespace person_segmentation::detail
