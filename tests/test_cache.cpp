// Unit tests: workq::worker_cache (single thread).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "workq/cache.hpp"
#include "workq/pool.hpp"

namespace {

using item = std::uint64_t;
using pool4 = workq::buffer_pool<item, 4>;
using cache4 = workq::worker_cache<item, 4>;
using pool8 = workq::buffer_pool<item, 8>;
using cache8 = workq::worker_cache<item, 8>;

/// Takes every item out of a pool's full stack (returning the buffers empty).
template <class Pool>
std::vector<item> drain_pool(Pool& p) {
  std::vector<item> out;
  while (auto* b = p.try_get_full()) {
    const std::size_t n = b->nobj.load();
    EXPECT_GE(n, 1u);
    EXPECT_LE(n, Pool::capacity);
    for (std::size_t i = 0; i < n; ++i) out.push_back(b->obj[i].load());
    b->nobj.store(0);
    p.put_empty(b);
  }
  return out;
}

template <class Cache>
std::vector<item> drain_cache(Cache& c) {
  std::vector<item> out;
  item x;
  while (c.try_get(x)) out.push_back(x);
  return out;
}

TEST(WorkerCache, FreshCacheTakesNoBuffers) {
  pool4 p(8);
  cache4 c(p);
  EXPECT_EQ(&c.pool(), &p);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.flushed_work());
  item x = 0;
  EXPECT_FALSE(c.put_fast(1));  // no primary buffer yet
  EXPECT_FALSE(c.try_get_fast(x));
  EXPECT_FALSE(c.try_get(x));  // pool dry: no buffers taken
  c.balance();                 // no buffers: no-op
  c.dispose();                 // no buffers: no-op
  EXPECT_EQ(p.buffers(), 0u);
  EXPECT_FALSE(p.has_full());
  p.reset();
}

TEST(WorkerCache, PutGetIsLifo) {
  pool4 p(8);
  {
    cache4 c(p);
    for (item i = 1; i <= 3; ++i) c.put(i);
    EXPECT_EQ(p.buffers(), 8u);  // first put took two buffers from a fresh chunk
    EXPECT_EQ(c.size(), 3u);
    EXPECT_FALSE(c.empty());
    EXPECT_EQ(drain_cache(c), (std::vector<item>{3, 2, 1}));
    EXPECT_TRUE(c.empty());
    EXPECT_FALSE(c.flushed_work());
  }
  EXPECT_FALSE(p.has_full());
  p.reset();  // destructor disposed both buffers empty
}

TEST(WorkerCache, FastPathStaysInThePrimaryBuffer) {
  pool4 p(8);
  cache4 c(p);
  c.put(0);  // takes buffers
  EXPECT_TRUE(c.put_fast(1));
  EXPECT_TRUE(c.put_fast(2));
  EXPECT_TRUE(c.put_fast(3));
  EXPECT_FALSE(c.put_fast(4));  // primary full: fast path refuses
  EXPECT_EQ(c.size(), 4u);
  item x = 99;
  for (item want = 4; want-- > 0;) {
    ASSERT_TRUE(c.try_get_fast(x));
    EXPECT_EQ(x, want);
  }
  EXPECT_FALSE(c.try_get_fast(x));  // primary empty: fast path refuses
  EXPECT_EQ(c.size(), 0u);
  c.dispose();
  p.reset();
}

TEST(WorkerCache, FastGetDoesNotLookAtTheSecondaryBuffer) {
  pool4 p(8);
  cache4 c(p);
  for (item i = 0; i < 5; ++i) c.put(i);  // b2 = {0..3}, b1 = {4}
  item x;
  ASSERT_TRUE(c.try_get_fast(x));
  EXPECT_EQ(x, 4u);
  EXPECT_FALSE(c.try_get_fast(x));
  EXPECT_FALSE(c.empty());  // b2 still holds 4 items
  EXPECT_EQ(c.size(), 4u);
  ASSERT_TRUE(c.try_get(x));  // slow path swaps
  EXPECT_EQ(x, 3u);
  EXPECT_EQ(drain_cache(c), (std::vector<item>{2, 1, 0}));
  EXPECT_FALSE(p.has_full());
}

TEST(WorkerCache, OverflowPublishesAFullBuffer) {
  pool4 p(8);
  cache4 c(p);
  for (item i = 0; i < 8; ++i) c.put(i);  // both buffers full: still no pool traffic
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(c.flushed_work());
  EXPECT_EQ(c.size(), 8u);
  c.put(8);  // both full: publishes one, takes an empty one
  EXPECT_TRUE(p.has_full());
  EXPECT_TRUE(c.flushed_work());
  EXPECT_EQ(c.size(), 5u);
  auto published = drain_pool(p);
  EXPECT_EQ(published, (std::vector<item>{0, 1, 2, 3}));  // the older, full buffer
  EXPECT_EQ(drain_cache(c), (std::vector<item>{8, 7, 6, 5, 4}));
}

TEST(WorkerCache, TryGetTakesFullBuffersFromThePool) {
  pool4 p(8);
  cache4 producer(p);
  for (item i = 0; i < 12; ++i) producer.put(i);  // publishes {0..3}
  producer.balance();                             // publishes b2 {4..7}
  ASSERT_TRUE(p.has_full());
  cache4 consumer(p);
  std::vector<item> got = drain_cache(consumer);
  EXPECT_EQ(got, (std::vector<item>{7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(consumer.flushed_work());
  got = drain_cache(producer);
  EXPECT_EQ(got, (std::vector<item>{11, 10, 9, 8}));
  consumer.dispose();
  producer.dispose();
  p.reset();
}

TEST(WorkerCache, RefillReturnsTheDryBufferToThePool) {
  pool4 p(4);
  cache4 c(p);
  c.put(1);
  item x;
  ASSERT_TRUE(c.try_get(x));  // cache now holds two empty buffers
  {
    auto* b = p.get_empty();  // a third buffer, filled by hand and published
    b->obj[0].store(42);
    b->nobj.store(1);
    p.put_full(b);
  }
  ASSERT_TRUE(c.try_get(x));
  EXPECT_EQ(x, 42u);
  EXPECT_EQ(p.buffers(), 4u);  // no new chunk: the cache gave a dry buffer back
  EXPECT_FALSE(c.try_get(x));
  c.dispose();
  p.reset();
}

TEST(WorkerCache, HysteresisAtABufferBoundaryDoesNotTouchThePool) {
  pool4 p(2);  // exactly the cache's two buffers per chunk
  cache4 c(p);
  for (item i = 0; i < 4; ++i) c.put(i);  // primary exactly full, secondary empty
  ASSERT_EQ(p.buffers(), 2u);
  item x;
  for (int round = 0; round < 1000; ++round) {
    c.put(100);  // crosses into the other buffer
    ASSERT_TRUE(c.try_get(x));
    EXPECT_EQ(x, 100u);
    ASSERT_TRUE(c.try_get(x));  // crosses back
    EXPECT_EQ(x, 3u);
    c.put(3);
  }
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(c.flushed_work());
  EXPECT_EQ(p.chunks(), 1u);
  EXPECT_EQ(p.buffers(), 2u);
  EXPECT_EQ(c.size(), 4u);
  // Neither buffer went back to the empty stack either: a get_empty now carves.
  auto* b = p.get_empty();
  EXPECT_EQ(p.chunks(), 2u);
  p.put_empty(b);
  EXPECT_EQ(drain_cache(c), (std::vector<item>{3, 2, 1, 0}));
}

TEST(WorkerCache, HysteresisWithBothBuffersPartlyFull) {
  pool4 p(2);
  cache4 c(p);
  for (item i = 0; i < 6; ++i) c.put(i);  // b2 full {0..3}, b1 {4,5}
  item x;
  for (int round = 0; round < 1000; ++round) {
    ASSERT_TRUE(c.try_get(x));
    ASSERT_TRUE(c.try_get(x));
    ASSERT_TRUE(c.try_get(x));  // crosses into b2
    c.put(7);
    c.put(8);
    c.put(9);
    ASSERT_EQ(c.size(), 6u);
  }
  EXPECT_FALSE(p.has_full());
  EXPECT_EQ(p.buffers(), 2u);
  EXPECT_EQ(drain_cache(c).size(), 6u);
}

TEST(WorkerCache, BalanceHandsTheSecondaryBufferToThePool) {
  pool4 p(8);
  cache4 c(p);
  for (item i = 0; i < 5; ++i) c.put(i);  // b2 = {0..3}, b1 = {4}
  EXPECT_FALSE(p.has_full());
  c.balance();
  EXPECT_TRUE(p.has_full());
  EXPECT_TRUE(c.flushed_work());
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(drain_pool(p), (std::vector<item>{0, 1, 2, 3}));
  EXPECT_EQ(drain_cache(c), (std::vector<item>{4}));
}

TEST(WorkerCache, BalanceHandsHalfThePrimaryToThePool) {
  pool8 p(8);
  cache8 c(p);
  for (item i = 0; i < 7; ++i) c.put(i);  // b1 = {0..6}, b2 empty
  c.balance();
  EXPECT_TRUE(c.flushed_work());
  ASSERT_TRUE(p.has_full());
  // The older items are published, the newer half (7/2 = 3) stays primary.
  EXPECT_EQ(drain_pool(p), (std::vector<item>{0, 1, 2, 3}));
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(drain_cache(c), (std::vector<item>{6, 5, 4}));
  c.dispose();
  p.reset();
}

TEST(WorkerCache, BalanceKeepsSmallWork) {
  pool8 p(8);
  cache8 c(p);
  for (item i = 0; i < 4; ++i) c.put(i);  // 4 items: "a few", nothing to share
  c.balance();
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(c.flushed_work());
  EXPECT_EQ(c.size(), 4u);
  c.put(4);  // 5 > 4: shares half
  c.balance();
  EXPECT_TRUE(p.has_full());
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(drain_pool(p), (std::vector<item>{0, 1, 2}));
  EXPECT_EQ(drain_cache(c), (std::vector<item>{4, 3}));
}

TEST(WorkerCache, PutBatchPublishesFullBuffers) {
  pool4 p(8);
  cache4 c(p);
  std::vector<item> xs(10);
  for (item i = 0; i < 10; ++i) xs[i] = i;
  c.put_batch(xs);
  EXPECT_TRUE(c.flushed_work());
  EXPECT_TRUE(p.has_full());
  EXPECT_EQ(c.size(), 2u);  // two full buffers published, {8, 9} cached
  auto published = drain_pool(p);
  std::sort(published.begin(), published.end());
  EXPECT_EQ(published, (std::vector<item>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(drain_cache(c), (std::vector<item>{9, 8}));
}

TEST(WorkerCache, PutBatchFillsAPartialPrimaryFirst) {
  pool4 p(8);
  cache4 c(p);
  c.put(0);
  const item more[] = {1, 2, 3};
  c.put_batch(more);
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(c.flushed_work());
  EXPECT_EQ(c.size(), 4u);
  c.put_batch(std::span<const item>{});  // empty batch: no-op
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(drain_cache(c), (std::vector<item>{3, 2, 1, 0}));
}

TEST(WorkerCache, EmptyBatchOnAFreshCacheTakesNoBuffers) {
  pool4 p(8);
  cache4 c(p);
  c.put_batch(std::span<const item>{});
  EXPECT_EQ(p.buffers(), 0u);
  EXPECT_TRUE(c.empty());
}

TEST(WorkerCache, DisposeReturnsBothBuffers) {
  pool4 p(8);
  cache4 c(p);
  for (item i = 0; i < 6; ++i) c.put(i);  // b2 {0..3} full, b1 {4,5}
  c.dispose();
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_TRUE(c.flushed_work());
  auto all = drain_pool(p);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<item>{0, 1, 2, 3, 4, 5}));
  p.reset();  // both buffers are home
  // The cache is reusable after dispose.
  c.put(7);
  item x;
  ASSERT_TRUE(c.try_get(x));
  EXPECT_EQ(x, 7u);
}

TEST(WorkerCache, DisposeOfAnEmptyCacheFlushesNothing) {
  pool4 p(8);
  cache4 c(p);
  c.put(1);
  item x;
  ASSERT_TRUE(c.try_get(x));
  c.dispose();
  EXPECT_FALSE(p.has_full());
  EXPECT_FALSE(c.flushed_work());
  p.reset();
  c.dispose();  // twice is fine
}

TEST(WorkerCache, TakeFlushedWorkClears) {
  pool4 p(8);
  cache4 c(p);
  EXPECT_FALSE(c.take_flushed_work());
  for (item i = 0; i < 5; ++i) c.put(i);
  c.balance();
  EXPECT_TRUE(c.flushed_work());
  EXPECT_TRUE(c.take_flushed_work());
  EXPECT_FALSE(c.flushed_work());
  EXPECT_FALSE(c.take_flushed_work());
  EXPECT_EQ(drain_pool(p).size(), 4u);
  EXPECT_EQ(drain_cache(c).size(), 1u);
}

TEST(WorkerCache, DestructorDisposes) {
  pool4 p(8);
  {
    cache4 c(p);
    for (item i = 0; i < 3; ++i) c.put(i);
  }
  EXPECT_EQ(drain_pool(p), (std::vector<item>{0, 1, 2}));
  p.reset();
}

TEST(WorkerCache, ManyItemsRoundTripExactlyOnce) {
  pool4 p(3);
  cache4 c(p);
  constexpr item n = 1000;
  for (item i = 0; i < n; ++i) {
    c.put(i);
    if (i % 37 == 0) c.balance();
  }
  std::vector<int> seen(n, 0);
  for (item x : drain_cache(c)) ++seen[x];
  for (item x : drain_pool(p)) ++seen[x];
  for (item i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << i;
  c.dispose();
  p.reset();
}

TEST(WorkerCache, PublicationsCountsBuffersPublished) {
  pool4 p(8);
  cache4 c(p);
  EXPECT_EQ(c.publications(), 0u);
  for (item i = 0; i < 8; ++i) c.put(i);  // both buffers full, nothing published
  EXPECT_EQ(c.publications(), 0u);
  c.put(8);  // overflow publishes one
  EXPECT_EQ(c.publications(), 1u);
  c.balance();  // b2 (full) is published
  EXPECT_EQ(c.publications(), 2u);
  c.take_flushed_work();
  EXPECT_EQ(c.publications(), 2u);  // never reset: a monotone count
  c.dispose();                      // b1 {8} goes to full, the empty b2 to empty
  EXPECT_EQ(c.publications(), 3u);
  EXPECT_EQ(drain_pool(p).size(), 9u);
  p.reset();
}

TEST(WorkerCache, AdoptOnAFreshCache) {
  pool4 p(8);
  auto* full = p.get_empty();
  full->obj[0].store(10);
  full->obj[1].store(11);
  full->nobj.store(2);
  cache4 c(p);
  c.adopt(full);  // takes an empty secondary from the pool
  EXPECT_EQ(c.size(), 2u);
  EXPECT_FALSE(c.empty());
  EXPECT_EQ(drain_cache(c), (std::vector<item>{11, 10}));
  EXPECT_EQ(c.publications(), 0u);
  c.dispose();
  p.reset();
}

TEST(WorkerCache, AdoptReturnsTheDryPrimaryToThePool) {
  pool4 p(4);
  cache4 c(p);
  c.put(1);
  item x;
  ASSERT_TRUE(c.try_get(x));  // cache holds two empty buffers
  ASSERT_EQ(p.buffers(), 4u);
  auto* full = p.get_empty();  // a third buffer, published by hand and taken back
  full->obj[0].store(42);
  full->nobj.store(1);
  p.put_full(full);
  auto* got = p.try_get_full();
  ASSERT_EQ(got, full);
  c.adopt(got);
  ASSERT_TRUE(c.try_get(x));
  EXPECT_EQ(x, 42u);
  EXPECT_FALSE(c.try_get(x));
  EXPECT_EQ(p.buffers(), 4u);  // the dry primary went back: no new chunk needed
  c.dispose();
  p.reset();
}

using WorkerCacheDeathTest = ::testing::Test;

TEST_F(WorkerCacheDeathTest, PoolResetWhileACacheHoldsBuffers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(8);
  cache4 c(p);
  c.put(1);
  item x;
  ASSERT_TRUE(c.try_get(x));
  EXPECT_DEATH(p.reset(), "buffers still held by workers");
  c.dispose();
  p.reset();
}

TEST_F(WorkerCacheDeathTest, AdoptWhileTheCacheHoldsItems) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(8);
  cache4 c(p);
  c.put(1);
  auto* full = p.get_empty();
  full->obj[0].store(2);
  full->nobj.store(1);
  EXPECT_DEATH(c.adopt(full), "adopt: cache still holds items");
  p.put_full(full);
  EXPECT_EQ(drain_cache(c).size(), 2u);
}

}  // namespace
