// Stress: lfstack with few nodes reused very often (ABA pressure), exact
// conservation of both nodes and the messages they carry.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "workq/lfstack.hpp"

namespace {

using workq::lfnode;
using workq::lfstack;
using workq_test::scaled;

struct msg : lfnode {
  std::uint64_t id = 0;       // plain payload: handed over by push (release) / pop (acquire)
  std::atomic<int> owned{0};  // 1 while some thread holds the node: catches double pops
};

/// Pops every node off `s` and checks each appears once and belongs to `nodes`.
std::size_t count_distinct(lfstack& s, std::vector<msg>& nodes, std::set<lfnode*>& seen) {
  std::size_t n = 0;
  while (lfnode* p = s.pop()) {
    EXPECT_TRUE(seen.insert(p).second) << "node on a stack twice";
    EXPECT_GE(p, static_cast<lfnode*>(&nodes.front()));
    EXPECT_LE(p, static_cast<lfnode*>(&nodes.back()));
    ++n;
  }
  return n;
}

void take(msg* m) { ASSERT_EQ(m->owned.exchange(1, std::memory_order_relaxed), 0) << "double pop"; }
void give(msg* m) { m->owned.store(0, std::memory_order_relaxed); }

class LfStackStress : public ::testing::TestWithParam<int> {};

// Messages with unique ids travel free -> data -> free on 16 reused nodes.
TEST_P(LfStackStress, MessagesExactlyOnce) {
  const int nthreads = GetParam();
  const std::uint64_t total = scaled(4000000);
  constexpr std::size_t nnodes = 16;
  std::vector<msg> nodes(nnodes);
  lfstack free_nodes, data;
  for (auto& m : nodes) free_nodes.push(&m);
  workq_test::exactly_once seen(total);
  std::atomic<std::uint64_t> consumed{0}, sum{0};

  auto worker = [&](int t) {
    std::uint64_t next = total * t / nthreads;
    const std::uint64_t end = total * (t + 1) / nthreads;
    std::uint64_t local_sum = 0;
    while (consumed.load(std::memory_order_relaxed) < total) {
      if (next < end) {
        if (auto* m = static_cast<msg*>(free_nodes.pop())) {
          take(m);
          m->id = next++;
          give(m);
          data.push(m);
        }
      }
      if (auto* m = static_cast<msg*>(data.pop())) {
        take(m);
        seen.mark(m->id);
        local_sum += m->id;
        give(m);
        free_nodes.push(m);
        consumed.fetch_add(1, std::memory_order_relaxed);
      } else if (next >= end) {
        std::this_thread::yield();
      }
    }
    sum.fetch_add(local_sum, std::memory_order_relaxed);
  };
  workq_test::run_threads(nthreads, worker);

  seen.expect_all_once();
  EXPECT_EQ(sum.load(), workq_test::sum_below(total));
  EXPECT_TRUE(data.empty());
  std::set<lfnode*> distinct;
  EXPECT_EQ(count_distinct(free_nodes, nodes, distinct), nnodes);
  EXPECT_EQ(count_distinct(data, nodes, distinct), 0u);
  // Every push bumped exactly one node's tag: 16 initial + 2 per message.
  std::uint64_t pushes = 0;
  for (auto& m : nodes) pushes += m.pushcnt.load();
  EXPECT_EQ(pushes, nnodes + 2 * total);
}

// Pure churn on one stack: pop, hold, push back. Maximal ABA pressure.
TEST_P(LfStackStress, ChurnKeepsEveryNode) {
  const int nthreads = GetParam();
  const std::size_t iters = scaled(3000000) / nthreads;
  constexpr std::size_t nnodes = 4;  // fewer nodes than threads: many empty pops
  std::vector<msg> nodes(nnodes);
  lfstack s;
  for (auto& m : nodes) s.push(&m);
  std::atomic<std::uint64_t> pops{0};

  auto worker = [&] {
    std::uint64_t local = 0;
    for (std::size_t i = 0; i < iters; ++i) {
      auto* m = static_cast<msg*>(s.pop());
      if (m == nullptr) continue;
      take(m);
      ++m->id;  // plain write while owned: TSan checks the handover
      give(m);
      s.push(m);
      ++local;
    }
    pops.fetch_add(local, std::memory_order_relaxed);
  };
  workq_test::run_threads(nthreads, [&](int) { worker(); });

  std::set<lfnode*> distinct;
  EXPECT_EQ(count_distinct(s, nodes, distinct), nnodes);
  std::uint64_t visits = 0, pushes = 0;
  for (auto& m : nodes) {
    visits += m.id;
    pushes += m.pushcnt.load();
  }
  EXPECT_EQ(visits, pops.load());
  EXPECT_EQ(pushes, nnodes + pops.load());
}

INSTANTIATE_TEST_SUITE_P(Threads, LfStackStress, ::testing::Values(1, 2, 4, 8),
                         workq_test::threads_name);

}  // namespace
