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
#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

namespace {

using workq::backoff_policy;
using workq::drain_mode;
using workq::drain_options;
using workq::drain_stop;
using workq::job_counter;
using workq_verify::boxed;
using workq_verify::check;
using workq_verify::mutant;

constexpr std::size_t kCap = 2;  // buffer capacity
using item_t = std::uint64_t;
using pool_t = workq::buffer_pool<item_t, kCap>;
using cache_t = workq::worker_cache<item_t, kCap>;
using detector_t = workq::termination_detector<pool_t>;

// ------------------------------------------------------------------ workload
template <unsigned Roots, unsigned Depth>
struct tree_work {
  static constexpr unsigned per_root = (1u << (Depth + 1)) - 1;  // nodes k = 1 .. per_root
  static constexpr unsigned stride = per_root + 1;
  static constexpr unsigned slots = Roots * stride;
  static constexpr item_t magic = 0x5eed;

  int root_scans[Roots] = {};
  int scans[slots] = {};
  int outstanding = Roots;  // roots not yet scanned + items pushed, not yet scanned
  workq::sync::var<item_t> payload[slots];

  static unsigned depth_of(item_t k) {
    unsigned d = 0;
    while (k > 1) k >>= 1, ++d;
    return d;
  }

  void push(item_t id, cache_t& c) {
    ++outstanding;
    payload[id].store(id ^ magic);
    c.put(id);
  }

  std::uint64_t scan_root(job_counter::index j, cache_t& c) {
    check(j < Roots, "root index out of range");
    check(root_scans[j]++ == 0, "root scanned twice");
    push(j * stride + 1, c);
    --outstanding;
    return 1;
  }

  std::uint64_t scan(item_t id, cache_t& c) {
    check(id < slots && id % stride != 0, "bad item");
    check(scans[id]++ == 0, "item scanned twice");
    check(payload[id].load() == (id ^ magic), "item payload lost");
    const item_t k = id % stride, base = id - k;
    if (depth_of(k) < Depth) {
      push(base + 2 * k, c);
      push(base + 2 * k + 1, c);
    }
    --outstanding;
    return 1;
  }

  // Someone observed termination.
  void on_done() { check(outstanding == 0, "termination declared with work outstanding"); }

  void check_final() {
    check(outstanding == 0, "work outstanding at the end");
    for (unsigned j = 0; j < Roots; ++j) check(root_scans[j] == 1, "root not scanned exactly once");
    for (unsigned i = 0; i < slots; ++i)
      if (i % stride != 0) check(scans[i] == 1, "item not scanned exactly once");
  }
};

// Objects with alignas(64) members live in boxed<> cells made per iteration.
template <unsigned Roots, unsigned Depth>
struct world {
  boxed<pool_t> pool;
  boxed<job_counter> roots;
  boxed<detector_t> det;
  tree_work<Roots, Depth> work;

  void make(unsigned nproc, std::size_t per_chunk) {
    pool.make(per_chunk);
    roots.make(Roots);
    det.make(*pool, *roots, nproc, backoff_policy{0, 0});
  }
  void finish() {
    work.check_final();
    roots->check_all_done();
    check(det->done(), "detector not terminated at the end");
    det.destroy();
    pool.destroy();  // release(): fails loudly unless every buffer is home and empty
    roots.destroy();
  }

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
