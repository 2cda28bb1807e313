// Stress: parallel drain over synthetic task trees, every worker mode mixed.
//
// Each scenario runs N workers (1, 2, 3, 4, 8 — on however few cores the
// machine has) over a task tree (task_tree.hpp) with one termination
// detector. Workers have roles:
//   block       drain() in blocking mode: returns only at termination.
//   preempt     until_preempt drains; a preemptor thread sets the worker's
//               flag at random moments; the worker then pause()s, waits a
//               random while (or until work shows up), resume()s and drains
//               again — Go's dedicated/fractional background workers.
//   fractional  fractional drains with a small budget, same pause/resume loop.
//   idle        idle drains whose idle_poll asks for the CPU back at random.
// Afterwards: every node and every root job was scanned exactly once, the
// items/roots/work totals add up, termination was reached (everyone waits),
// the pool is quiescent (reset() passes), and in flush_credit mode the credit
// flushed equals the work done, in batches of at least credit_slack except
// the flushes a worker makes before it waits.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "task_tree.hpp"
#include "test_util.hpp"
#include "workq/drain.hpp"

namespace {

using namespace std::chrono_literals;
using workq::drain_mode;
using workq::drain_options;
using workq::drain_stop;
using workq_test::scaled;
using workq_test::task_tree;
using workq_test::xorshift;
using item = std::uint64_t;
using pool_t = workq::buffer_pool<item, 16>;
using cache_t = workq::worker_cache<item, 16>;
using detector = workq::termination_detector<pool_t>;

enum class role { block, preempt, fractional, idle };

struct scenario {
  std::vector<role> roles;
  bool use_roots = true;  // roots as root jobs; else seeded into the pool
  std::uint64_t root_batch = 1;
  bool flush = false;
  bool preemptor = false;  // a thread that preempts non-blocking workers
  workq::backoff_policy backoff{};
  std::chrono::microseconds budget{50};
  bool prefetch = false;   // drain through a prefetch_ring of depth 4
  std::uint32_t spin = 8;  // CPU pauses per scanned node: lets workers overlap
  std::uint64_t seed = 1;
};

struct outcome {
  std::uint64_t pauses = 0, preempted = 0, budget = 0, idle = 0, parks = 0;
  std::uint64_t max_share = 0;  // most items one worker scanned
};

/// Roles for n workers: the pattern repeated; n == 1 takes the first.
std::vector<role> roles_of(int n, std::initializer_list<role> pattern) {
  std::vector<role> r;
  for (int i = 0; r.size() < static_cast<std::size_t>(n); ++i)
    r.push_back(pattern.begin()[static_cast<std::size_t>(i) % pattern.size()]);
  return r;
}

outcome run_once(const task_tree& t, const scenario& s) {
  const auto n = static_cast<std::uint32_t>(s.roles.size());
  constexpr std::int64_t slack = 64;
  pool_t pool;
  workq::job_counter roots(s.use_roots ? t.roots() : 0);
  detector det(pool, roots, n, s.backoff);
  workq_test::exactly_once nodes(t.size());
  workq_test::exactly_once root_jobs(s.use_roots ? t.roots() : 1);
  if (!s.use_roots) {
    cache_t c(pool);
    for (item r = 0; r < t.roots(); ++r) c.put(r);
  }  // disposed: the roots are on the full stack

  std::unique_ptr<std::atomic<bool>[]> flags(new std::atomic<bool>[n]);
  for (std::uint32_t i = 0; i < n; ++i) flags[i].store(false);
  std::atomic<bool> finished{false};
  std::atomic<std::uint32_t> exited{0};
  std::atomic<std::uint64_t> items{0}, root_count{0}, work{0};
  std::atomic<std::uint64_t> pauses{0}, preempted{0}, budget{0}, idle{0};
  std::atomic<std::int64_t> credit{0}, credit_cb{0};
  std::atomic<std::uint64_t> bad_batches{0};
  std::atomic<std::uint64_t> max_share{0};
  std::uint32_t max_units = 1;
  for (std::size_t i = 0; i < t.size(); ++i) max_units = std::max(max_units, 1 + t.fanout(i));

  auto scan_root = [&](workq::job_counter::index j, cache_t& c) -> std::uint64_t {
    root_jobs.mark(j);
    c.put(j);
    return 1;
  };
  auto scan = [&](item x, cache_t& c) -> std::uint64_t {
    nodes.mark(x);
    for (std::uint32_t k = 0; k < s.spin; ++k) workq::sync::spin_pause();
    for (item ch = t.child_begin(x); ch < t.child_end(x); ++ch) c.put(ch);
    return t.units(x);
  };

  std::atomic<std::uint64_t> prefetched{0};
  auto drain_once = [&](cache_t& cache, const drain_options& o) {
    if (!s.prefetch) return workq::drain(cache, roots, &det, scan_root, scan, o);
    auto pf = [&](item x) {
      EXPECT_LT(x, t.size());
      prefetched.fetch_add(1, std::memory_order_relaxed);
    };
    return workq::drain(cache, roots, &det, scan_root, scan, workq::prefetch_with<4>(pf), o);
  };

  auto worker = [&](std::uint32_t i) {
    cache_t cache(pool);
    xorshift rng(s.seed * 1000003u + i);
    drain_options o;
    o.root_batch = s.root_batch;
    if (s.flush) {
      o.mode = drain_mode::flush_credit;
      o.credit = &credit;
      o.credit_slack = slack;
      o.on_credit = [&](std::int64_t v) {
        credit_cb.fetch_add(v, std::memory_order_relaxed);
        // A batch is either a slack crossing (slack .. slack + one scan) or a
        // remainder flushed before waiting / on return (below slack).
        if (v <= 0 || v >= slack + max_units) bad_batches.fetch_add(1);
      };
    }
    std::uint64_t mine = 0;
    const auto account = [&](const workq::drain_result& r) {
      mine += r.items;
      for (std::uint64_t m = max_share.load();
           mine > m && !max_share.compare_exchange_weak(m, mine);) {
      }
      items.fetch_add(r.items);
      root_count.fetch_add(r.roots);
      work.fetch_add(r.work);
      switch (r.stop) {
        case drain_stop::preempted:
          preempted.fetch_add(1);
          break;
        case drain_stop::budget:
          budget.fetch_add(1);
          break;
        case drain_stop::idle_poll:
          idle.fetch_add(1);
          break;
        default:
          break;
      }
    };

    const role me = s.roles[i];
    if (me == role::block) {
      const auto r = drain_once(cache, o);
      EXPECT_EQ(r.stop, drain_stop::done);
      account(r);
      finished.store(true);
      exited.fetch_add(1);
      return;
    }
    o.preempt = &flags[i];
    switch (me) {
      case role::preempt:
        o.mode = o.mode | drain_mode::until_preempt;
        break;
      case role::fractional:
        o.mode = o.mode | drain_mode::fractional;
        o.budget = s.budget;
        o.check_every = 32;
        break;
      case role::idle:
        o.mode = o.mode | drain_mode::idle;
        o.check_every = 32;
        o.idle_poll = [&rng] { return rng.below(4) == 0; };
        break;
      case role::block:
        break;
    }
    for (bool stop = false; !stop;) {
      flags[i].store(false);
      const auto r = drain_once(cache, o);
      EXPECT_NE(r.stop, drain_stop::done);
      EXPECT_TRUE(cache.empty());
      account(r);
      pauses.fetch_add(1);
      if (det.pause()) {  // we completed termination
        finished.store(true);
        break;
      }
      // Paused: descheduled for a while, back when there is work.
      for (;;) {
        if (finished.load()) {
          stop = true;
          break;
        }
        if (det.done()) {  // exact: we are one of the waiters
          finished.store(true);
          stop = true;
          break;
        }
        if (det.work_available()) {
          det.resume();
          // Racy hint: termination may have been reached between the check
          // and the resume. Nobody can produce work then, so just re-arrive.
          if (finished.load()) {
            (void)det.pause();
            stop = true;
          }
          break;
        }
        if (rng.below(2) == 0)
          std::this_thread::yield();
        else
          std::this_thread::sleep_for(std::chrono::microseconds(rng.below(40)));
      }
    }
    exited.fetch_add(1);
  };

  std::vector<std::thread> ts;
  for (std::uint32_t i = 0; i < n; ++i) ts.emplace_back(worker, i);
  std::thread preemptor;
  if (s.preemptor) {
    preemptor = std::thread([&] {
      xorshift rng(s.seed ^ 0xabcdefu);
      std::vector<std::uint32_t> targets;
      for (std::uint32_t i = 0; i < n; ++i)
        if (s.roles[i] != role::block) targets.push_back(i);
      if (targets.empty()) return;
      while (exited.load() < n) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng.below(150)));
        flags[targets[rng.below(targets.size())]].store(true);
      }
    });
  }
  for (auto& th : ts) th.join();
  if (preemptor.joinable()) preemptor.join();

  nodes.expect_all_once();
  EXPECT_EQ(items.load(), t.size());
  if (s.use_roots) {
    root_jobs.expect_all_once();
    EXPECT_EQ(root_count.load(), t.roots());
    EXPECT_EQ(roots.finished(), t.roots());
  } else {
    EXPECT_EQ(root_count.load(), 0u);
  }
  roots.check_all_done();
  const std::uint64_t total = t.total_units() + (s.use_roots ? t.roots() : 0);
  EXPECT_EQ(work.load(), total);
  if (s.flush) {
    EXPECT_EQ(credit.load(), static_cast<std::int64_t>(total));
    EXPECT_EQ(credit_cb.load(), static_cast<std::int64_t>(total));
    EXPECT_EQ(bad_batches.load(), 0u);
  } else {
    EXPECT_EQ(credit.load(), 0);
  }
  if (s.prefetch) {
    EXPECT_GE(prefetched.load(), t.size());  // items put back are prefetched again
  } else {
    EXPECT_EQ(prefetched.load(), 0u);
  }
  EXPECT_TRUE(det.done());
  EXPECT_EQ(det.waiting(), n);
  EXPECT_FALSE(det.work_available());
  pool.reset();  // fails loudly unless every buffer is home and empty

  outcome out;
  out.pauses = pauses.load();
  out.preempted = preempted.load();
  out.budget = budget.load();
  out.idle = idle.load();
  out.parks = det.parks();
  out.max_share = max_share.load();
  if (std::getenv("WORKQ_TEST_VERBOSE") != nullptr)
    std::printf(
        "  n=%u items=%zu max_share=%llu pauses=%llu preempted=%llu budget=%llu idle=%llu "
        "parks=%llu\n",
        n, t.size(), (unsigned long long)out.max_share, (unsigned long long)out.pauses,
        (unsigned long long)out.preempted, (unsigned long long)out.budget,
        (unsigned long long)out.idle, (unsigned long long)out.parks);
  return out;
}

/// Repeats a scenario with `reps` seeds (preemption times, idle polls and
/// pause lengths differ); the outcome counters are summed.
outcome run(const task_tree& t, scenario s, std::size_t reps = scaled(4)) {
  outcome sum;
  const std::uint64_t base = s.seed;
  for (std::size_t k = 0; k < reps && !::testing::Test::HasFailure(); ++k) {
    s.seed = base + 7919 * k;
    const outcome o = run_once(t, s);
    sum.pauses += o.pauses;
    sum.preempted += o.preempted;
    sum.budget += o.budget;
    sum.idle += o.idle;
    sum.parks += o.parks;
    sum.max_share = std::max(sum.max_share, o.max_share);
  }
  return sum;
}

class drainStress : public ::testing::TestWithParam<int> {
 protected:
  int workers() const { return GetParam(); }
};

TEST_P(drainStress, BlockingBinaryTreeSeededInThePool) {
  const task_tree t = task_tree::binary(static_cast<unsigned>(workq_test::under_tsan ? 12 : 15));
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  s.use_roots = false;
  run(t, s);
}

TEST_P(drainStress, BlockingRandomTreeWithRootJobs) {
  const task_tree t = task_tree::random(64, scaled(60000), 4, 101);
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  run(t, s);
}

TEST_P(drainStress, BlockingRandomTreeWithRootBatches) {
  const task_tree t = task_tree::random(200, scaled(60000), 5, 202);
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  s.root_batch = 7;
  run(t, s);
}

TEST_P(drainStress, BlockingWaitersParkAtOnce) {
  // Backoff {0, 0}: every wait parks, so every publication must wake.
  const task_tree t = task_tree::random(16, scaled(40000), 3, 303);
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  s.backoff = {0, 0};
  s.root_batch = 2;
  run(t, s);
}

TEST_P(drainStress, PreemptedWorkersMixedWithBlockingOnes) {
  const task_tree t = task_tree::random(32, scaled(60000), 4, 404);
  scenario s;
  s.roles = roles_of(workers(), {role::preempt, role::block});
  s.preemptor = true;
  s.backoff = {2, 2};
  const outcome o = run(t, s);
  EXPECT_GE(o.pauses, 1u);
}

TEST_P(drainStress, OnlyPreemptibleWorkersSeededTree) {
  // Nobody blocks: termination is completed by a pause().
  const task_tree t = task_tree::binary(workq_test::under_tsan ? 11 : 14, 3);
  scenario s;
  s.roles = roles_of(workers(), {role::preempt});
  s.use_roots = false;
  s.preemptor = true;
  run(t, s);
}

TEST_P(drainStress, FractionalWorkersWithSmallBudgets) {
  const task_tree t = task_tree::random(24, scaled(50000), 4, 505);
  scenario s;
  s.roles = roles_of(workers(), {role::fractional, role::fractional, role::block});
  s.budget = 20us;
  const outcome o = run(t, s);
  EXPECT_GE(o.budget, 1u) << "no fractional drain ever ran out of budget";
}

TEST_P(drainStress, IdleWorkersWithAnIdlePoll) {
  const task_tree t = task_tree::random(24, scaled(50000), 4, 606);
  scenario s;
  s.roles = roles_of(workers(), {role::idle, role::block});
  const outcome o = run(t, s);
  EXPECT_GE(o.idle, 1u) << "idle_poll never stopped a drain";
}

TEST_P(drainStress, FlushCreditBlocking) {
  const task_tree t = task_tree::random(40, scaled(50000), 4, 707);
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  s.flush = true;
  s.root_batch = 3;
  run(t, s);
}

TEST_P(drainStress, EverythingMixedWithCredit) {
  const task_tree t = task_tree::random(50, scaled(60000), 5, 808);
  scenario s;
  s.roles = roles_of(workers(), {role::block, role::preempt, role::fractional, role::idle});
  s.flush = true;
  s.preemptor = true;
  s.root_batch = 4;
  s.backoff = {1, 1};
  s.budget = 30us;
  run(t, s);
}

TEST_P(drainStress, PrefetchRingBlocking) {
  const task_tree t = task_tree::random(30, scaled(50000), 4, 909);
  scenario s;
  s.roles = roles_of(workers(), {role::block});
  s.prefetch = true;
  s.backoff = {1, 1};
  run(t, s);
}

TEST_P(drainStress, PrefetchRingEverythingMixed) {
  // Preempted / budget / idle stops must hand the ring's items back.
  const task_tree t = task_tree::random(30, scaled(50000), 4, 1010);
  scenario s;
  s.roles = roles_of(workers(), {role::preempt, role::block, role::fractional, role::idle});
  s.prefetch = true;
  s.preemptor = true;
  s.flush = true;
  s.budget = 20us;
  run(t, s);
}

INSTANTIATE_TEST_SUITE_P(Workers, drainStress, ::testing::Values(1, 2, 3, 4, 8),
                         workq_test::threads_name);

TEST(drainTermination, ReachedEveryRunBlocking) {
  // Many short cycles: termination must be detected every time (a missed
  // wake-up or a premature `done` fails or hangs here).
  const std::size_t runs = workq_test::under_tsan ? 50 : 200;
  for (std::size_t k = 0; k < runs; ++k) {
    const task_tree t = task_tree::random(4, 400, 3, 900 + k);
    scenario s;
    s.roles = roles_of(4, {role::block});
    s.backoff = k % 2 ? workq::backoff_policy{0, 0} : workq::backoff_policy{};
    s.use_roots = k % 3 != 0;
    s.seed = k;
    run_once(t, s);
    if (HasFailure()) FAIL() << "run " << k;
  }
}

TEST(drainTermination, ReachedEveryRunMixed) {
  const std::size_t runs = workq_test::under_tsan ? 25 : 100;
  for (std::size_t k = 0; k < runs; ++k) {
    const task_tree t = task_tree::random(4, 400, 3, 5000 + k);
    scenario s;
    s.roles = roles_of(4, {role::preempt, role::block, role::fractional, role::idle});
    s.preemptor = true;
    s.backoff = {0, 0};
    s.budget = 10us;
    s.seed = k;
    run_once(t, s);
    if (HasFailure()) FAIL() << "run " << k;
  }
}

}  // namespace
