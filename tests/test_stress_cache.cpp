// Stress: worker_caches (capacity 4) over one shared buffer_pool. Items are
// unique ids; every one is consumed exactly once, every buffer comes home.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "workq/cache.hpp"
#include "workq/pool.hpp"

namespace {

using workq_test::scaled;
using item = std::uint64_t;
using pool4 = workq::buffer_pool<item, 4>;
using cache4 = workq::worker_cache<item, 4>;

class CacheStress : public ::testing::TestWithParam<int> {};

// Every thread produces its share of ids with put / put_fast / put_batch,
// calls balance() now and then, and consumes with try_get / try_get_fast.
TEST_P(CacheStress, ProducersConsumersExactlyOnce) {
  const int nthreads = GetParam();
  const item total = scaled(4000000);
  pool4 pool(8);
  workq_test::exactly_once seen(total);
  std::atomic<item> consumed{0}, sum{0};
  std::atomic<int> flushed{0};

  auto worker = [&](int t) {
    cache4 c(pool);
    item next = total * t / nthreads;
    const item end = total * (t + 1) / nthreads;
    item local_sum = 0, local_consumed = 0, step = 0;
    auto consume = [&](item x) {
      seen.mark(x);
      local_sum += x;
      ++local_consumed;
    };
    while (consumed.load(std::memory_order_relaxed) < total) {
      ++step;
      // Produce a few: the mix of entry points changes with the step.
      for (int i = 0; i < 3 && next < end; ++i) {
        switch (step % 4) {
          case 0: {
            item batch[6];
            std::size_t n = 0;
            while (n < 6 && next < end) batch[n++] = next++;
            c.put_batch(std::span<const item>(batch, n));
            break;
          }
          case 1:
            if (!c.put_fast(next)) c.put(next);
            ++next;
            break;
          default:
            c.put(next++);
        }
      }
      if (step % 8 == 0) c.balance();
      // Consume a few.
      item x;
      bool got = false;
      for (int i = 0; i < 4; ++i) {
        if (c.try_get_fast(x) || c.try_get(x)) {
          consume(x);
          got = true;
        } else {
          break;
        }
      }
      if (local_consumed > 0) {
        consumed.fetch_add(local_consumed, std::memory_order_relaxed);
        local_consumed = 0;
      }
      if (!got && next >= end) std::this_thread::yield();
    }
    EXPECT_TRUE(c.empty()) << "all items consumed, yet this cache holds some";
    EXPECT_EQ(c.size(), 0u);
    if (c.take_flushed_work()) flushed.fetch_add(1, std::memory_order_relaxed);
    c.dispose();
    sum.fetch_add(local_sum, std::memory_order_relaxed);
  };
  workq_test::run_threads(nthreads, worker);

  seen.expect_all_once();
  EXPECT_EQ(consumed.load(), total);
  EXPECT_EQ(sum.load(), workq_test::sum_below(total));
  EXPECT_GT(flushed.load(), 0);  // put_batch alone publishes full buffers
  EXPECT_FALSE(pool.has_full());
  pool.reset();  // every buffer home and empty (fatal otherwise)
}

// A task tree (node i spawns 2i+1 and 2i+2) grown from one root on thread 0:
// the other threads get work only through buffers published by put overflow
// and balance(), as in a parallel marker.
TEST_P(CacheStress, TaskTreeExactlyOnce) {
  const int nthreads = GetParam();
  const item total = scaled(4000000);
  pool4 pool(8);
  workq_test::exactly_once seen(total);
  std::atomic<item> consumed{0}, sum{0};
  std::vector<item> per_thread(static_cast<std::size_t>(nthreads), 0);

  auto worker = [&](int t) {
    cache4 c(pool);
    if (t == 0) c.put(0);
    item local_sum = 0, local_consumed = 0, mine = 0;
    while (consumed.load(std::memory_order_relaxed) < total) {
      item x;
      if (!c.try_get(x)) {
        std::this_thread::yield();
        continue;
      }
      seen.mark(x);
      local_sum += x;
      ++mine;
      for (item child = 2 * x + 1; child <= 2 * x + 2 && child < total; ++child) c.put(child);
      if (++local_consumed == 16) {
        c.balance();  // share with idle threads
        consumed.fetch_add(local_consumed, std::memory_order_relaxed);
        local_consumed = 0;
      }
      if (c.empty() && local_consumed > 0) {
        consumed.fetch_add(local_consumed, std::memory_order_relaxed);
        local_consumed = 0;
      }
    }
    EXPECT_EQ(local_consumed, 0u);
    EXPECT_TRUE(c.empty());
    c.dispose();
    sum.fetch_add(local_sum, std::memory_order_relaxed);
    per_thread[static_cast<std::size_t>(t)] = mine;
  };
  workq_test::run_threads(nthreads, worker);

  seen.expect_all_once();
  EXPECT_EQ(consumed.load(), total);
  EXPECT_EQ(sum.load(), workq_test::sum_below(total));
  item all = 0;
  for (item m : per_thread) all += m;
  EXPECT_EQ(all, total);
  EXPECT_FALSE(pool.has_full());
  pool.reset();
}

INSTANTIATE_TEST_SUITE_P(Threads, CacheStress, ::testing::Values(1, 2, 4, 8),
                         workq_test::threads_name);

}  // namespace
