// A minimal fork-join helper: split [0, count) into contiguous chunks, one per thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace person_segmentation::cpu {

/// Calls `body(begin, end)` on `num_threads` contiguous chunks of [0, count); the calling
/// thread runs the first chunk. An exception thrown by any chunk is rethrown here.
template <typename Body>
void parallel_for(int64_t count, int32_t num_threads, const Body& body) {
  if (count <= 0) return;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(num_threads, count));
  if (threads == 1) {
    body(int64_t{0}, count);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  auto run = [&](int64_t t) {
    const int64_t begin = count * t / threads;
    const int64_t end = count * (t + 1) / threads;
    try {
      body(begin, end);
    } catch (...) {
      errors[static_cast<size_t>(t)] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads - 1));
  for (int64_t t = 1; t < threads; ++t) {
    try {
      workers.emplace_back(run, t);
    } catch (const std::system_error&) {
      run(t);  // no thread available: do this chunk on the calling thread
    }
  }
  run(0);
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

/// Dynamic scheduling: `num_threads` workers each call `worker(next)`, where `next(&begin,
/// &end)` hands out the next chunk of up to `chunk` items of [0, count) and returns false when
/// none is left. Workers keep per-thread state across their chunks; uneven work (e.g. rows
/// with and without people) balances itself.
template <typename Worker>
void parallel_chunks(int64_t count, int64_t chunk, int32_t num_threads, const Worker& worker) {
  if (count <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  std::atomic<int64_t> cursor{0};
  auto next = [&](int64_t* begin, int64_t* end) {
    const int64_t b = cursor.fetch_add(chunk, std::memory_order_relaxed);
    if (b >= count) return false;
    *begin = b;
    *end = std::min(count, b + chunk);
    return true;
  };
  const int64_t chunks = (count + chunk - 1) / chunk;
  parallel_for(std::min<int64_t>(num_threads, chunks), num_threads, [&](int64_t, int64_t) { worker(next); });
}

}  // namespace person_segmentation::cpu
