// Unit tests: workq::drain with a single worker (every mode, deterministic).
//
// The work is a synthetic task tree (task_tree.hpp): scanning node i marks it
// and pushes its children; root job j pushes tree root j. Every node and
// every root job must be scanned exactly once, whatever the mode and however
// often the drain stops and starts again.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "task_tree.hpp"
#include "test_util.hpp"
#include "workq/drain.hpp"

namespace {

using workq::drain_mode;
using workq::drain_options;
using workq::drain_stop;
using workq_test::task_tree;
using item = std::uint64_t;
using pool_t = workq::buffer_pool<item, 8>;
using cache_t = workq::worker_cache<item, 8>;
using detector = workq::termination_detector<pool_t>;
/// drain() deduces the pool type from its detector argument, so a bare
/// nullptr does not compile: pass a typed null.
detector* const no_detector = nullptr;

/// Scan callables over a task tree, counting every scan.
struct tree_work {
  const task_tree& tree;
  workq_test::exactly_once nodes;
  workq_test::exactly_once root_jobs;
  std::uint64_t scans = 0;
  std::function<void()> after_scan;  // hook: runs after each node scan

  explicit tree_work(const task_tree& t) : tree(t), nodes(t.size()), root_jobs(t.roots()) {}

  auto root_fn() {
    return [this](workq::job_counter::index j, cache_t& c) -> std::uint64_t {
      root_jobs.mark(j);
      c.put(j);
      return 1;
    };
  }
  auto scan_fn() {
    return [this](item x, cache_t& c) -> std::uint64_t {
      nodes.mark(x);
      ++scans;
      for (item ch = tree.child_begin(x); ch < tree.child_end(x); ++ch) c.put(ch);
      if (after_scan) after_scan();
      return tree.units(x);
    };
  }
  /// Without root jobs: the roots are seeded straight into the pool.
  void seed(pool_t& p) {
    cache_t c(p);
    for (item r = 0; r < tree.roots(); ++r) c.put(r);
    c.dispose();
  }
};

TEST(drainDeathTest, BlockingWithoutDetectorIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p;
        cache_t c(p);
        workq::job_counter roots;
        (void)workq::drain(
            c, roots, no_detector,
            [](workq::job_counter::index, cache_t&) -> std::uint64_t { return 0; },
            [](item, cache_t&) -> std::uint64_t { return 0; });
      },
      "blocking mode needs a detector");
}

TEST(drain, BlockingSingleWorkerSeededTree) {
  const task_tree t = task_tree::binary(10);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots;
  detector d(p, roots, 1);
  w.seed(p);
  {
    cache_t c(p);
    const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn());
    EXPECT_EQ(r.stop, drain_stop::done);
    EXPECT_EQ(r.items, t.size());
    EXPECT_EQ(r.roots, 0u);
    EXPECT_EQ(r.work, t.total_units());
    EXPECT_TRUE(c.empty());
  }
  w.nodes.expect_all_once();
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.waiting(), 1u);
  p.reset();
}

class drainRootBatch : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(drainRootBatch, BlockingSingleWorkerWithRootJobs) {
  const task_tree t = task_tree::random(37, 5000, 4, 11);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  detector d(p, roots, 1);
  drain_options o;
  o.root_batch = GetParam();
  {
    cache_t c(p);
    const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
    EXPECT_EQ(r.stop, drain_stop::done);
    EXPECT_EQ(r.items, t.size());
    EXPECT_EQ(r.roots, t.roots());
    EXPECT_EQ(r.work, t.total_units() + t.roots());
  }
  w.nodes.expect_all_once();
  w.root_jobs.expect_all_once();
  roots.check_all_done();
  p.reset();
}
INSTANTIATE_TEST_SUITE_P(Batches, drainRootBatch, ::testing::Values(1u, 2u, 5u, 64u));

TEST(drain, NonBlockingWithoutDetectorDrainsToNoWork) {
  const task_tree t = task_tree::random(3, 2000, 3, 5);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::until_preempt;  // no preempt flag: runs out of work
  const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::no_work);
  EXPECT_EQ(r.items, t.size());
  w.nodes.expect_all_once();
  w.root_jobs.expect_all_once();
  const auto again = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(again.stop, drain_stop::no_work);
  EXPECT_EQ(again.items, 0u);
  p.reset();
}

TEST(drain, PreemptSetOnEntryTouchesNothing) {
  const task_tree t = task_tree::binary(3, 4);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  workq::sync::atomic<bool> preempt{true};
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::until_preempt;
  o.preempt = &preempt;
  const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::preempted);
  EXPECT_EQ(r.items, 0u);
  EXPECT_EQ(r.roots, 0u);
  EXPECT_EQ(roots.claimed(), 0u);
  preempt.store(false);
  const auto r2 = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r2.stop, drain_stop::no_work);
  EXPECT_EQ(r2.items, t.size());
  w.nodes.expect_all_once();
  p.reset();
}

TEST(drain, PreemptMidwayDisposesTheCacheIntoThePool) {
  const task_tree t = task_tree::binary(9);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots;
  detector d(p, roots, 1);
  workq::sync::atomic<bool> preempt{false};
  w.seed(p);
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::until_preempt;
  o.preempt = &preempt;
  w.after_scan = [&] {
    if (w.scans % 100 == 0) preempt.store(true);
  };
  std::uint64_t items = 0;
  int stops = 0;
  for (;;) {
    preempt.store(false);
    const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
    items += r.items;
    EXPECT_TRUE(c.empty());  // every item it held went back to the pool
    if (r.stop == drain_stop::no_work) break;
    ASSERT_EQ(r.stop, drain_stop::preempted);
    EXPECT_EQ(r.items, 100u);
    EXPECT_TRUE(d.work_available());  // the rest is on the full stack
    ++stops;
    // Paused between drains, like a descheduled background worker.
    EXPECT_FALSE(d.pause());
    d.resume();
  }
  EXPECT_EQ(items, t.size());
  EXPECT_EQ(stops, static_cast<int>(t.size() / 100));
  w.nodes.expect_all_once();
  EXPECT_TRUE(d.pause());  // nothing left anywhere: this completes termination
  p.reset();
}

TEST(drain, PreemptDuringRootJobsLeavesTheRestUnclaimed) {
  const task_tree t = task_tree::binary(2, 50);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  workq::sync::atomic<bool> preempt{false};
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::until_preempt;
  o.preempt = &preempt;
  auto root = [&](workq::job_counter::index j, cache_t& cc) -> std::uint64_t {
    if (j == 9) preempt.store(true);
    return w.root_fn()(j, cc);
  };
  auto r = workq::drain(c, roots, no_detector, root, w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::preempted);
  EXPECT_EQ(r.roots, 10u);
  EXPECT_EQ(r.items, 0u);  // roots first: no heap item before the preemption
  EXPECT_EQ(roots.claimed(), 10u);
  EXPECT_TRUE(p.has_full());  // the ten pushed roots went to the pool
  preempt.store(false);
  r = workq::drain(c, roots, no_detector, root, w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::no_work);
  EXPECT_EQ(r.roots, 40u);
  w.nodes.expect_all_once();
  w.root_jobs.expect_all_once();
  roots.check_all_done();
  p.reset();
}

TEST(drain, FractionalStopsWhenTheBudgetIsSpent) {
  const task_tree t = task_tree::random(1, 3000, 4, 3);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::fractional;
  o.budget = std::chrono::nanoseconds{0};  // spent at the first check
  o.check_every = 16;
  std::uint64_t items = 0;
  int budget_stops = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
    items += r.items;
    if (r.stop == drain_stop::no_work) break;
    ASSERT_EQ(r.stop, drain_stop::budget);
    EXPECT_LE(r.work, 16u + 1u + 4u);  // one check interval, plus the item that crossed it
    ++budget_stops;
  }
  EXPECT_EQ(items, t.size());
  EXPECT_GT(budget_stops, 10);
  w.nodes.expect_all_once();
  w.root_jobs.expect_all_once();
  p.reset();
}

TEST(drain, FractionalWithAGenerousBudgetRunsOut) {
  const task_tree t = task_tree::binary(8);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::fractional;
  o.budget = std::chrono::seconds{30};
  o.check_every = 1;
  const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::no_work);
  EXPECT_EQ(r.items, t.size());
  w.nodes.expect_all_once();
  p.reset();
}

TEST(drain, IdleModeStopsWhenIdlePollAsks) {
  const task_tree t = task_tree::random(5, 3000, 4, 9);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  cache_t c(p);
  int polls = 0;
  drain_options o;
  o.mode = drain_mode::idle;
  o.check_every = 8;
  o.idle_poll = [&] { return ++polls % 3 == 0; };
  std::uint64_t items = 0;
  int idle_stops = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
    items += r.items;
    if (r.stop == drain_stop::no_work) break;
    ASSERT_EQ(r.stop, drain_stop::idle_poll);
    ++idle_stops;
  }
  EXPECT_EQ(items, t.size());
  EXPECT_GT(idle_stops, 10);
  EXPECT_GE(polls, 3 * idle_stops);
  w.nodes.expect_all_once();
  w.root_jobs.expect_all_once();
  p.reset();
}

TEST(drain, IdlePollIsNotConsultedPerItem) {
  const task_tree t = task_tree::binary(10);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  cache_t c(p);
  int polls = 0;
  drain_options o;
  o.mode = drain_mode::idle;
  o.check_every = 1000;
  o.idle_poll = [&] { return ++polls < 0; };  // never asks for the CPU back
  const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::no_work);
  EXPECT_LE(static_cast<std::uint64_t>(polls), r.work / 1000 + 1);
  EXPECT_GE(polls, 1);
  p.reset();
}

TEST(drain, FlushCreditInBatchesOfAtLeastTheSlack) {
  const task_tree t = task_tree::random(20, 20000, 5, 21);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  detector d(p, roots, 1);
  workq::sync::atomic<std::int64_t> credit{0};
  std::vector<std::int64_t> batches;
  drain_options o;
  o.mode = drain_mode::flush_credit;  // blocking + credit
  o.credit = &credit;
  o.credit_slack = 500;
  o.on_credit = [&](std::int64_t c) { batches.push_back(c); };
  cache_t c(p);
  const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::done);
  const std::int64_t total = static_cast<std::int64_t>(t.total_units() + t.roots());
  EXPECT_EQ(static_cast<std::int64_t>(r.work), total);
  EXPECT_EQ(credit.load(), total);
  std::int64_t sum = 0;
  ASSERT_FALSE(batches.empty());
  for (std::size_t i = 0; i < batches.size(); ++i) {
    sum += batches[i];
    EXPECT_GT(batches[i], 0);
    if (i + 1 < batches.size()) {
      EXPECT_GE(batches[i], o.credit_slack) << "batch " << i;
      EXPECT_LT(batches[i], o.credit_slack + 1 + 5 + 1) << "batch " << i;  // + one scan at most
    }
  }
  EXPECT_EQ(sum, total);
  EXPECT_LT(batches.back(), o.credit_slack + 7);
  w.nodes.expect_all_once();
  p.reset();
}

TEST(drain, FlushCreditWithoutCallbackOrWithoutCounter) {
  const task_tree t = task_tree::binary(9);
  for (int variant = 0; variant < 2; ++variant) {
    tree_work w(t);
    pool_t p;
    workq::job_counter roots;
    detector d(p, roots, 1);
    w.seed(p);
    workq::sync::atomic<std::int64_t> credit{0};
    std::int64_t via_callback = 0;
    drain_options o;
    o.mode = drain_mode::flush_credit | drain_mode::until_preempt;
    o.credit_slack = 64;
    if (variant == 0) {
      o.credit = &credit;
    } else {
      o.on_credit = [&](std::int64_t c) { via_callback += c; };
    }
    cache_t c(p);
    const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
    EXPECT_EQ(r.stop, drain_stop::no_work);
    const auto total = static_cast<std::int64_t>(t.total_units());
    EXPECT_EQ(variant == 0 ? credit.load() : via_callback, total);
    w.nodes.expect_all_once();
    p.reset();
  }
}

TEST(drain, NoCreditFlushedWithoutTheFlag) {
  const task_tree t = task_tree::binary(6);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots;
  detector d(p, roots, 1);
  w.seed(p);
  workq::sync::atomic<std::int64_t> credit{0};
  int calls = 0;
  drain_options o;
  o.credit = &credit;
  o.on_credit = [&](std::int64_t) { ++calls; };
  cache_t c(p);
  const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::done);
  EXPECT_EQ(r.work, t.total_units());  // still reported
  EXPECT_EQ(credit.load(), 0);
  EXPECT_EQ(calls, 0);
  p.reset();
}

TEST(drain, HandsWorkAwayWhenAnotherParticipantWaits) {
  // Go: "if another proc wants a pointer, give it some". The tree fits in
  // the cache's two buffers, so with nobody waiting the pool never sees a
  // full buffer; with a waiter the worker balances on every iteration.
  // Six roots of 7 nodes: at most ~9 items cached at once (the cache holds
  // 16), but the primary buffer holds more than 4 right after the roots.
  const task_tree t = task_tree::binary(2, 6);
  for (const bool someone_waits : {false, true}) {
    tree_work w(t);
    pool_t p;
    workq::job_counter roots(t.roots());
    detector d(p, roots, 2);
    if (someone_waits) {
      EXPECT_FALSE(d.pause());  // participant 2 waits
    }
    bool pool_had_work = false;
    w.after_scan = [&] { pool_had_work = pool_had_work || p.has_full(); };
    cache_t c(p);
    drain_options o;
    o.mode = drain_mode::until_preempt;
    const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
    EXPECT_EQ(r.stop, drain_stop::no_work);
    EXPECT_EQ(r.items, t.size());
    EXPECT_EQ(pool_had_work, someone_waits) << "someone_waits=" << someone_waits;
    EXPECT_EQ(c.publications() > 0, someone_waits);
    w.nodes.expect_all_once();
    p.reset();
  }
}

TEST(drain, BlockingWorkerCompletesTerminationWithAnotherPaused) {
  // nproc 2: the other participant is paused (so the worker also balances
  // all the way); the work comes from root jobs only. After every root and
  // node is done the worker's get_full completes termination.
  const task_tree t = task_tree::random(8, 4000, 3, 77);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  detector d(p, roots, 2);
  EXPECT_FALSE(d.pause());
  cache_t c(p);
  drain_options o;
  o.root_batch = 3;
  const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), o);
  EXPECT_EQ(r.stop, drain_stop::done);
  EXPECT_EQ(r.roots, t.roots());
  EXPECT_EQ(r.items, t.size());
  EXPECT_EQ(d.waiting(), 2u);
  w.nodes.expect_all_once();
  roots.check_all_done();
  p.reset();
}

TEST(drain, PrefetchRingSeesEveryItemAndLosesNone) {
  const task_tree t = task_tree::random(6, 3000, 4, 55);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots(t.roots());
  detector d(p, roots, 1);
  std::vector<int> prefetched(t.size(), 0);
  auto pf = [&](item x) { ++prefetched[x]; };
  cache_t c(p);
  const auto r = workq::drain(c, roots, &d, w.root_fn(), w.scan_fn(), workq::prefetch_with<4>(pf),
                              drain_options{});
  EXPECT_EQ(r.stop, drain_stop::done);
  EXPECT_EQ(r.items, t.size());
  w.nodes.expect_all_once();
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(prefetched[i], 1) << "item " << i;
  p.reset();
}

TEST(drain, PrefetchRingItemsGoBackOnPreemption) {
  const task_tree t = task_tree::binary(9);
  tree_work w(t);
  pool_t p;
  workq::job_counter roots;
  workq::sync::atomic<bool> preempt{false};
  w.seed(p);
  cache_t c(p);
  drain_options o;
  o.mode = drain_mode::until_preempt;
  o.preempt = &preempt;
  w.after_scan = [&] {
    if (w.scans % 37 == 0) preempt.store(true);
  };
  std::uint64_t prefetches = 0;
  auto pf = [&](item) { ++prefetches; };
  std::uint64_t items = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    preempt.store(false);
    const auto r = workq::drain(c, roots, no_detector, w.root_fn(), w.scan_fn(),
                                workq::prefetch_with<8>(pf), o);
    items += r.items;
    EXPECT_TRUE(c.empty());
    if (r.stop == drain_stop::no_work) break;
    ASSERT_EQ(r.stop, drain_stop::preempted);
  }
  EXPECT_EQ(items, t.size());
  EXPECT_GT(prefetches, t.size());  // ring items handed back were prefetched again
  w.nodes.expect_all_once();
  p.reset();
}

}  // namespace
