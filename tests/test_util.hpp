// tests/test_util.hpp — helpers shared by the GoogleTest suites.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace workq_test {

/// True when built with ThreadSanitizer (GCC defines __SANITIZE_THREAD__,
/// Clang reports __has_feature(thread_sanitizer)).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif
#else
inline constexpr bool under_tsan = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif

/// Scale a stress workload down under sanitizers (TSan is ~5-15x slower).
inline std::size_t scaled(std::size_t n) {
  if (under_tsan) return n / 8 > 0 ? n / 8 : 1;
  if (under_asan) return n / 2 > 0 ? n / 2 : 1;
  return n;
}

/// Per-id consumption counters: every produced id must be consumed exactly once.
class exactly_once {
 public:
  explicit exactly_once(std::size_t n) : n_(n), seen_(new std::atomic<std::uint32_t>[n]) {
    for (std::size_t i = 0; i < n; ++i) seen_[i].store(0, std::memory_order_relaxed);
  }
  void mark(std::uint64_t id) {
    ASSERT_LT(id, n_);
    seen_[id].fetch_add(1, std::memory_order_relaxed);
  }
  /// Asserts every id in [0, n) was marked exactly once; reports the first few offenders.
  void expect_all_once() const {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::uint32_t c = seen_[i].load(std::memory_order_relaxed);
      if (c != 1 && ++bad <= 5) ADD_FAILURE() << "id " << i << " consumed " << c << " times";
    }
    EXPECT_EQ(bad, 0u) << "ids not consumed exactly once";
  }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> seen_;
};

/// Sum of 0..n-1.
inline std::uint64_t sum_below(std::uint64_t n) { return n * (n - 1) / 2; }

/// Run fn(t) on n threads (t = 0 .. n-1) and join them all.
template <class Fn>
void run_threads(int n, Fn&& fn) {
  std::vector<std::thread> ts;
  ts.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) ts.emplace_back([&fn, t] { fn(t); });
  for (auto& th : ts) th.join();
}

inline std::string threads_name(const ::testing::TestParamInfo<int>& info) {
  return std::to_string(info.param) + "threads";
}

}  // namespace workq_test
