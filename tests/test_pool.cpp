// Unit tests: workq::workbuf and workq::buffer_pool (single thread).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "workq/lfstack.hpp"
#include "workq/pool.hpp"

namespace {

using pool4 = workq::buffer_pool<std::uint64_t, 4>;
using buf4 = pool4::buffer;

void fill(buf4* b, std::size_t n, std::uint64_t first = 0) {
  for (std::size_t i = 0; i < n; ++i) b->obj[i].store(first + i);
  b->nobj.store(n);
}

TEST(BufferPool, FreshPoolHasNothing) {
  pool4 p(3);
  EXPECT_EQ(p.chunks(), 0u);
  EXPECT_EQ(p.buffers(), 0u);
  EXPECT_EQ(p.buffers_per_chunk(), 3u);
  EXPECT_FALSE(p.has_full());
  EXPECT_EQ(p.try_get_full(), nullptr);
  p.reset();    // nothing carved: all home
  p.release();  // idempotent on an empty pool
}

TEST(BufferPool, ZeroBuffersPerChunkMeansOne) {
  pool4 p(0);
  EXPECT_EQ(p.buffers_per_chunk(), 1u);
  buf4* b = p.get_empty();
  EXPECT_EQ(p.chunks(), 1u);
  EXPECT_EQ(p.buffers(), 1u);
  p.put_empty(b);
}

TEST(BufferPool, DefaultBuffersPerChunk) {
  pool4 p;
  EXPECT_EQ(p.buffers_per_chunk(), pool4::default_buffers_per_chunk);
  EXPECT_EQ(pool4::default_buffers_per_chunk, pool4::default_chunk_bytes / sizeof(buf4));
  using big = workq::buffer_pool<void*>;
  EXPECT_EQ(big::default_chunk_bytes, 32u * 1024u);
  EXPECT_EQ(big::default_buffers_per_chunk, 16u);  // 32 KiB / 2 KiB, as Go's workbufAlloc
}

TEST(BufferPool, GetEmptyCarvesChunks) {
  pool4 p(3);
  std::vector<buf4*> held;
  std::set<buf4*> distinct;
  for (int i = 0; i < 7; ++i) {
    buf4* b = p.get_empty();
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->nobj.load(), 0u);
    EXPECT_TRUE(workq::lfstack::valid_node(b));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 8, 0u);
    held.push_back(b);
    distinct.insert(b);
    // 3 buffers per chunk: chunk k is carved by the (3k+1)-th get_empty.
    EXPECT_EQ(p.chunks(), static_cast<std::size_t>(i / 3 + 1));
    EXPECT_EQ(p.buffers(), 3 * p.chunks());
  }
  EXPECT_EQ(distinct.size(), 7u);
  for (buf4* b : held) p.put_empty(b);
  p.reset();
  EXPECT_EQ(p.chunks(), 3u);  // reset keeps the chunks
  EXPECT_EQ(p.buffers(), 9u);
}

TEST(BufferPool, EmptyBuffersAreReusedBeforeCarving) {
  pool4 p(2);
  buf4* a = p.get_empty();
  buf4* b = p.get_empty();
  EXPECT_EQ(p.chunks(), 1u);
  p.put_empty(b);
  EXPECT_EQ(p.get_empty(), b);  // LIFO reuse, no new chunk
  EXPECT_EQ(p.chunks(), 1u);
  p.put_empty(a);
  p.put_empty(b);
}

TEST(BufferPool, PutFullTryGetFull) {
  pool4 p(4);
  buf4* a = p.get_empty();
  buf4* b = p.get_empty();
  fill(a, 1, 100);  // partially filled is fine
  fill(b, 4, 200);  // exactly full
  p.put_full(a);
  EXPECT_TRUE(p.has_full());
  EXPECT_TRUE(p.has_full(std::memory_order_seq_cst));
  p.put_full(b);
  buf4* g = p.try_get_full();
  ASSERT_EQ(g, b);
  EXPECT_EQ(g->nobj.load(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(g->obj[i].load(), 200 + i);
  g = p.try_get_full();
  ASSERT_EQ(g, a);
  EXPECT_EQ(g->obj[0].load(), 100u);
  EXPECT_FALSE(p.has_full());
  EXPECT_EQ(p.try_get_full(), nullptr);
  a->nobj.store(0);
  b->nobj.store(0);
  p.put_empty(a);
  p.put_empty(b);
  p.reset();
}

TEST(BufferPool, ReuseAfterRelease) {
  pool4 p(2);
  buf4* a = p.get_empty();
  p.put_empty(a);
  p.release();
  EXPECT_EQ(p.chunks(), 0u);
  EXPECT_EQ(p.buffers(), 0u);
  buf4* b = p.get_empty();  // carves again
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(p.chunks(), 1u);
  EXPECT_EQ(p.buffers(), 2u);
  fill(b, 2);
  p.put_full(b);
  buf4* c = p.try_get_full();
  ASSERT_EQ(c, b);
  c->nobj.store(0);
  p.put_empty(c);
  p.release();
}

TEST(BufferPool, ResetThenReuseKeepsEveryBuffer) {
  pool4 p(3);
  std::vector<buf4*> held;
  for (int i = 0; i < 3; ++i) held.push_back(p.get_empty());
  for (buf4* b : held) p.put_empty(b);
  p.reset();
  std::set<buf4*> again;
  for (int i = 0; i < 3; ++i) again.insert(p.get_empty());
  EXPECT_EQ(again, std::set<buf4*>(held.begin(), held.end()));
  EXPECT_EQ(p.chunks(), 1u);
  for (buf4* b : again) p.put_empty(b);
}

using BufferPoolDeathTest = ::testing::Test;

TEST_F(BufferPoolDeathTest, PutFullWithNoItems) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  EXPECT_DEATH(p.put_full(b), "put_full: bad item count");
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, PutFullWithTooManyItems) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  b->nobj.store(5);
  EXPECT_DEATH(p.put_full(b), "put_full: bad item count");
  b->nobj.store(0);
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, PutEmptyWithItems) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  fill(b, 1);
  EXPECT_DEATH(p.put_empty(b), "put_empty: buffer is not empty");
  b->nobj.store(0);
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, ResetWhileABufferIsHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  EXPECT_DEATH(p.reset(), "buffers still held by workers");
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, ReleaseWhileABufferIsHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  EXPECT_DEATH(p.release(), "buffers still held by workers");
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, ResetWithFullBuffersLeft) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  fill(b, 2);
  p.put_full(b);
  EXPECT_DEATH(p.reset(), "full buffers left");
  ASSERT_EQ(p.try_get_full(), b);
  b->nobj.store(0);
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, ReleaseWithFullBuffersLeft) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  pool4 p(2);
  buf4* b = p.get_empty();
  fill(b, 2);
  p.put_full(b);
  EXPECT_DEATH(p.release(), "full buffers left");
  ASSERT_EQ(p.try_get_full(), b);
  b->nobj.store(0);
  p.put_empty(b);
}

TEST_F(BufferPoolDeathTest, DestructorChecksBuffersAreHome) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool4 p(2);
        (void)p.get_empty();
      },
      "buffers still held by workers");
}

}  // namespace
