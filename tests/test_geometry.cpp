// Unit tests: workbuf geometry (Go's 2048-byte buffers, 253 pointer slots).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "workq/cache.hpp"
#include "workq/pool.hpp"
#include "workq/workbuf.hpp"

namespace {

static_assert(workq::workbuf_bytes == 2048);
static_assert(workq::workbuf_header_bytes == 24);
static_assert(workq::default_workbuf_capacity<void*> == 253);
static_assert(workq::default_workbuf_capacity<std::uint64_t> == 253);
static_assert(workq::default_workbuf_capacity<std::uint32_t> == 506);
static_assert(sizeof(workq::workbuf<void*>) == 2048);
static_assert(sizeof(workq::workbuf<std::uint32_t>) == 2048);
static_assert(workq::workbuf<void*>::capacity == 253);
static_assert(workq::workbuf<int, 3>::capacity == 3);
static_assert(std::is_base_of_v<workq::lfnode, workq::workbuf<void*>>);
static_assert(workq::buffer_pool<void*>::capacity == 253);
static_assert(workq::worker_cache<void*>::capacity == 253);
static_assert(std::is_same_v<workq::worker_cache<int, 4>::buffer, workq::workbuf<int, 4>>);
static_assert(std::is_same_v<workq::worker_cache<int, 4>::pool_type, workq::buffer_pool<int, 4>>);
static_assert(sizeof(workq::sync::var<void*>) == sizeof(void*));
static_assert(workq::sync::cache_line == 64);

TEST(Geometry, GoBufferSize) {
  EXPECT_EQ(sizeof(workq::workbuf<void*>), 2048u);
  EXPECT_EQ(workq::workbuf<void*>::capacity, 253u);
  workq::workbuf<void*> b;
  const auto base = reinterpret_cast<std::uintptr_t>(&b);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&b.nobj) - base, sizeof(workq::lfnode));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&b.obj[0]) - base, workq::workbuf_header_bytes);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&b.obj[253]) - base, 2048u);
}

TEST(Geometry, PooledBuffersAreAlignedAndDisjoint) {
  workq::buffer_pool<void*> p;
  auto* a = p.get_empty();
  auto* b = p.get_empty();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 8, 0u);
  const auto d = reinterpret_cast<std::uintptr_t>(a) > reinterpret_cast<std::uintptr_t>(b)
                     ? reinterpret_cast<std::uintptr_t>(a) - reinterpret_cast<std::uintptr_t>(b)
                     : reinterpret_cast<std::uintptr_t>(b) - reinterpret_cast<std::uintptr_t>(a);
  EXPECT_GE(d, 2048u);
  EXPECT_EQ(p.buffers(), 16u);
  p.put_empty(a);
  p.put_empty(b);
}

}  // namespace
