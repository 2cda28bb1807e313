// verify/drain_verify.cpp — Relacy suites for workq::drain (with the detector).
//
// Workload: as in termination_verify.cpp — `Roots` root jobs; root j pushes
// item (j, 1); item (j, k) with depth(k) < Depth pushes (j, 2k), (j, 2k+1).
// Plain-int bookkeeping counts scans per root/item and the work outstanding
// (roots not scanned + items pushed and not scanned); each item's payload is
// a sync::var written before the push and read by the scanner (a handoff
// without happens-before is a DATA RACE).
//
// Properties
//   * drain.preempt.*: participant A drains in until_preempt mode; its
//     preempt flag is set by a third thread (3t) or by A's own scan after N
//     scans (2t) — mid-way, with roots unclaimed and/or items in its cache.
//     A must return `preempted` (or `no_work`) with its cache disposed, every
//     item it held now in the pool; A then pause()s. Participant B drains in
//     blocking mode and must finish everything: conservation (every root and
//     item scanned exactly once), nobody observes termination while work is
//     outstanding, B returns `done`, the pool's quiescent checks pass.
//   * drain.prefetch.*: the same with a prefetch ring of depth 2 in both
//     drains: items parked in the ring are never lost (scanned before waiting,
//     put back before a preempted return) and never scanned twice; the
//     prefetch hook only sees live items.
//   * drain.block.prefetch.*: two blocking drains with prefetch rings reach
//     termination with everything scanned.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"
#include "tree_world.hpp"
#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

namespace {
using namespace workq_verify::tree;

template <unsigned Roots, unsigned Depth>
struct world : world_base<Roots, Depth> {
  using world_base<Roots, Depth>::pool;
  using world_base<Roots, Depth>::roots;
  using world_base<Roots, Depth>::det;
  using world_base<Roots, Depth>::work;

  // drain() with this world's workload; `after_scan` runs after every root
  // or item scan (a preemption trigger); Depth > 0 inserts a prefetch ring.
  template <std::size_t PrefetchDepth, class AfterScan>
  workq::drain_result run_drain(cache_t& c, const drain_options& opt, AfterScan&& after_scan) {
    auto scan_root = [&](job_counter::index j, cache_t& cc) {
      const std::uint64_t u = work.scan_root(j, cc);
      after_scan();
      return u;
    };
    auto scan = [&](item_t x, cache_t& cc) {
      const std::uint64_t u = work.scan(x, cc);
      after_scan();
      return u;
    };
    if constexpr (PrefetchDepth == 0) {
      return workq::drain(c, *roots, &*det, scan_root, scan, opt);
    } else {
      // The prefetch hook checks the item is a live one (pushed, not yet scanned).
      auto prefetch = workq::prefetch_with<PrefetchDepth>([this](item_t x) {
        check(x < work.slots && work.scans[x] == 0, "prefetch of a dead item");
      });
      return workq::drain(c, *roots, &*det, scan_root, scan, prefetch, opt);
    }
  }
};

// ------------------------------------------- 3. until_preempt + blocking
// Thread 0 = A (until_preempt), thread 1 = B (blocking). With Threads == 3,
// thread 2 sets A's flag at an arbitrary point; with Threads == 2 A's own
// scan sets it after PreemptAfter scans.
template <unsigned Threads, unsigned Roots, unsigned Depth, unsigned PreemptAfter,
          std::size_t PerChunk, std::size_t PrefetchDepth>
struct preempt_suite
    : rl::test_suite<preempt_suite<Threads, Roots, Depth, PreemptAfter, PerChunk, PrefetchDepth>,
                     Threads> {
  static_assert(Threads == 2 || Threads == 3);
  world<Roots, Depth> w;
  workq::sync::atomic<bool> preempt{false};
  unsigned a_scans = 0;
  bool a_preempted = false;

  void before() { w.make(2, PerChunk); }

  void thread(unsigned t) {
    if (t == 2) {
      preempt.store(true, std::memory_order_relaxed);
      return;
    }
    cache_t c(*w.pool);
    if (t == 0) {
      drain_options opt;
      opt.mode = drain_mode::until_preempt;
      opt.preempt = &preempt;
      const workq::drain_result r = w.template run_drain<PrefetchDepth>(c, opt, [&] {
        if (Threads == 2 && ++a_scans == PreemptAfter)
          preempt.store(true, std::memory_order_relaxed);
      });
      check(r.stop == drain_stop::preempted || r.stop == drain_stop::no_work,
            "until_preempt drain: unexpected stop");
      check(c.empty(), "drain returned with items in the cache");
      a_preempted = r.stop == drain_stop::preempted;
      if (w.det->pause()) w.work.on_done();
      return;
    }
    const workq::drain_result r = w.template run_drain<PrefetchDepth>(c, drain_options{}, [] {});
    check(r.stop == drain_stop::done, "blocking drain returned without termination");
    check(c.empty(), "drain returned with items in the cache");
    w.work.on_done();
  }
  void after() { w.finish(); }
};

// --------------------------------------------- blocking drains with prefetch
template <unsigned Workers, unsigned Roots, unsigned Depth, std::size_t PerChunk,
          std::size_t PrefetchDepth>
struct block_suite
    : rl::test_suite<block_suite<Workers, Roots, Depth, PerChunk, PrefetchDepth>, Workers> {
  world<Roots, Depth> w;

  void before() { w.make(Workers, PerChunk); }
  void thread(unsigned) {
    cache_t c(*w.pool);
    const workq::drain_result r = w.template run_drain<PrefetchDepth>(c, drain_options{}, [] {});
    check(r.stop == drain_stop::done, "blocking drain returned without termination");
    w.work.on_done();
  }
  void after() { w.finish(); }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  constexpr unsigned depth = 20000;  // execution_depth_limit (scheduling points)

  // 3. until_preempt: A preempted mid-way, B (blocking) finishes everything.
  // Three-thread bounded search does not finish in minutes (spurious futex
  // wake-ups branch freely): the third-thread setter gets random search.
  h.bound_and_random<preempt_suite<2, 1, 1, 1, 1, 0>>("drain.preempt.2t.after1", 2, 100000, {},
                                                      depth);
  h.bound_and_random<preempt_suite<2, 2, 1, 2, 2, 0>>("drain.preempt.2t.after2", 2, 100000, {},
                                                      depth);
  h.random<preempt_suite<3, 2, 1, 0, 2, 0>>("drain.preempt.3t.setter", 200000, {}, depth);

  // Prefetch ring (depth 2).
  h.bound_and_random<preempt_suite<2, 1, 1, 2, 1, 2>>("drain.prefetch.preempt.2t.after2", 2, 100000,
                                                      {}, depth);
  h.random<preempt_suite<3, 2, 1, 0, 2, 2>>("drain.prefetch.preempt.3t.setter", 200000, {}, depth);
  h.bound_and_random<block_suite<2, 1, 1, 1, 2>>("drain.block.prefetch.2w.1root", 2, 100000, {},
                                                 depth);
  h.random<block_suite<2, 2, 1, 1, 2>>("drain.block.prefetch.2w.2roots", 100000, {}, depth);
  return h.finish();
}
