// The C++ tests' harness (no test framework): check() counts and prints each failed check,
// expect_invalid() checks that a call throws std::invalid_argument, and report() prints the
// totals and gives main's exit code (non-zero if any check failed).
#pragma once

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace ps_test {

inline int g_failures = 0;
inline int g_checks = 0;

inline void check(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAILED: %s\n", what.c_str());
  }
}

inline void expect_invalid(const std::function<void()>& f, const std::string& what) {
  bool threw = false;
  try {
    f();
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  check(threw, "expected std::invalid_argument: " + what);
}

inline int report() {
  std::printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

}  // namespace ps_test
