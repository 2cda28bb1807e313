// Stress: buffer_pool put_full / try_get_full / get_empty / put_empty from
// many threads with buffers of 1..4 items; every item consumed exactly once,
// every buffer home at the end.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "workq/pool.hpp"

namespace {

using workq_test::scaled;
using pool4 = workq::buffer_pool<std::uint64_t, 4>;

class PoolStress : public ::testing::TestWithParam<int> {};

TEST_P(PoolStress, ItemsExactlyOnce) {
  const int nthreads = GetParam();
  const std::uint64_t total = scaled(6000000);
  pool4 pool(4);  // small chunks: carving races with popping
  workq_test::exactly_once seen(total);
  std::atomic<std::uint64_t> consumed{0}, sum{0};

  auto worker = [&](int t) {
    std::uint64_t next = total * t / nthreads;
    const std::uint64_t end = total * (t + 1) / nthreads;
    std::uint64_t local_sum = 0, k = static_cast<std::uint64_t>(t);
    while (consumed.load(std::memory_order_relaxed) < total) {
      if (next < end) {
        auto* b = pool.get_empty();
        ASSERT_EQ(b->nobj.load(), 0u);
        std::size_t n = 0;
        for (const std::size_t want = 1 + (k++ % 4); n < want && next < end; ++n)
          b->obj[n].store(next++);
        b->nobj.store(n);
        pool.put_full(b);
      }
      if (auto* b = pool.try_get_full()) {
        const std::size_t n = b->nobj.load();
        ASSERT_GE(n, 1u);
        ASSERT_LE(n, 4u);
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t id = b->obj[i].load();
          seen.mark(id);
          local_sum += id;
        }
        b->nobj.store(0);
        pool.put_empty(b);
        consumed.fetch_add(n, std::memory_order_relaxed);
      } else if (next >= end) {
        std::this_thread::yield();
      }
    }
    sum.fetch_add(local_sum, std::memory_order_relaxed);
  };
  workq_test::run_threads(nthreads, worker);

  seen.expect_all_once();
  EXPECT_EQ(sum.load(), workq_test::sum_below(total));
  EXPECT_FALSE(pool.has_full());
  EXPECT_EQ(pool.buffers(), pool.chunks() * 4);
  pool.reset();  // every buffer home and empty (fatal otherwise)
  pool.release();
  EXPECT_EQ(pool.chunks(), 0u);
}

// Carving races: many threads take more empty buffers than one chunk holds,
// then give them back; no buffer may be handed out twice.
TEST_P(PoolStress, GetEmptyNeverHandsOutABufferTwice) {
  const int nthreads = GetParam();
  const std::size_t rounds = scaled(100000);
  pool4 pool(3);
  std::atomic<std::uint64_t> taken{0};
  auto worker = [&] {
    std::vector<pool4::buffer*> held;
    for (std::size_t r = 0; r < rounds; ++r) {
      for (int i = 0; i < 5; ++i) {
        auto* b = pool.get_empty();
        ASSERT_EQ(b->nobj.load(), 0u);
        b->nobj.store(1);  // mark as ours: a second holder would see 1 above
        held.push_back(b);
      }
      for (auto* b : held) {
        ASSERT_EQ(b->nobj.load(), 1u);
        b->nobj.store(0);
        pool.put_empty(b);
      }
      taken.fetch_add(held.size(), std::memory_order_relaxed);
      held.clear();
    }
  };
  workq_test::run_threads(nthreads, [&](int) { worker(); });
  EXPECT_EQ(taken.load(), rounds * 5 * nthreads);
  EXPECT_LE(pool.buffers(), static_cast<std::size_t>(5 * nthreads + 2));  // at most one spare chunk
  pool.reset();
}

INSTANTIATE_TEST_SUITE_P(Threads, PoolStress, ::testing::Values(1, 2, 4, 8),
                         workq_test::threads_name);

}  // namespace
