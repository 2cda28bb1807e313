// verify/termination_verify.cpp — Relacy suites for workq::termination_detector.
//
// Workload (shared by every suite here): `Roots` root jobs in a job_counter;
// scanning root j pushes item (j, 1); scanning item (j, k) with depth(k) <
// Depth pushes its two children (j, 2k) and (j, 2k+1) — a complete binary
// tree of 2^(Depth+1) - 1 items per root. Bookkeeping (not under test, plain
// ints: Relacy runs the threads one at a time) counts, per item, the scans it
// got, and globally the work *outstanding*: root jobs not yet scanned plus
// items pushed and not yet scanned. Each item also has a payload (sync::var)
// written by its producer before the push and read by its scanner, so a
// handoff without happens-before is a Relacy DATA RACE.
//
// Properties
//   * termination.block.*: W workers run workq::drain in blocking mode, each
//     with its own worker_cache, sharing one detector. Nobody returns `done`
//     while work is outstanding (a root unclaimed or unscanned, an item in the
//     pool, in a cache or being scanned); every worker returns; every root and
//     item is scanned exactly once; check_all_done and the pool's quiescent
//     checks pass at the end. LIVELOCK/DEADLOCK are Relacy's own verdicts.
//   * termination.handoff.*: the seed's scenario. Participant A runs drain in
//     until_preempt mode and is preempted (its own scan sets the flag after
//     `PreemptAfter` scans; 0 = set before it starts), disposes (its items go
//     to the pool) and pause()s — possibly leaving root jobs unclaimed.
//     Participant B does heap work only: it calls get_full() directly, claims
//     roots only when get_full says `roots`, and scans what it gets. Whoever
//     observes termination (B's `done`, A's pause() returning true) asserts
//     nothing is outstanding; at the end everything was scanned exactly once.
//     In the 3t variant a third thread (not a participant) sets A's flag.
//   * termination.resume_after_done: A pauses, resumes and pauses again
//     (termination.hpp documents resume() after termination as harmless)
//     while B drains in blocking mode; every observation of termination is
//     sound and everything is scanned once.
//   * termination.park.*: lost wake-up. W waiters park in get_full (backoff
//     {0,0}: they park on the first round); a publisher puts a full buffer
//     and calls notify_work(), then pauses. A waiter nobody wakes is a Relacy
//     DEADLOCK. Negative control: the publisher skips notify_work() -> DEADLOCK.
//
// Mutants (each a passing run that asserts Relacy finds the bug):
//   no_root_check   get_full/terminated without "no root job left": B gets
//                   `done` with A's roots unclaimed (USER ASSERT FAILED).
//   late_withdraw   retry pop before leaving nwait: A's pause() sees nwait ==
//                   nproc and an empty stack while B holds the buffer it just
//                   popped (USER ASSERT FAILED).
//   relaxed_announce  relaxed arrive: the arrivals no longer synchronise. A's
//                   snapshot reads the stack from before B's pop (a buffer
//                   that is gone) and B's reads an nwait without A's arrival,
//                   so neither declares termination and B parks for good:
//                   Relacy DEADLOCK (the missed-termination face of the bug;
//                   the premature-`done` face needs a rarer interleaving).
//
// Three-thread suites use random search only: bounded search with three
// threads does not finish in minutes even at context bound 1 (each futex wait
// may wake spuriously, and every such wake is a new branch); --long adds a
// bounded run for the three-worker termination suite.
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

  template <class Opt>
  workq::drain_result run_drain(cache_t& c, const Opt& opt) {
    return workq::drain(
        c, *roots, &*det, [&](job_counter::index j, cache_t& cc) { return work.scan_root(j, cc); },
        [&](item_t x, cache_t& cc) { return work.scan(x, cc); }, opt);
  }
};

// ------------------------------------------------- 1. blocking termination
template <unsigned Workers, unsigned Roots, unsigned Depth, std::size_t PerChunk>
struct block_suite : rl::test_suite<block_suite<Workers, Roots, Depth, PerChunk>, Workers> {
  world<Roots, Depth> w;

  void before() { w.make(Workers, PerChunk); }
  void thread(unsigned) {
    cache_t c(*w.pool);
    const workq::drain_result r = w.run_drain(c, drain_options{});
    check(r.stop == drain_stop::done, "blocking drain returned without termination");
    w.work.on_done();
  }
  void after() { w.finish(); }
};

// ------------------------------------------------- 2. preempted A, heap-only B
// A: until_preempt drain; its scans set its preempt flag after PreemptAfter
// scans (0: flag set before it starts; kSetter: a third thread, not a
// participant, sets it at an arbitrary point). Then pause(). B: get_full loop.
constexpr unsigned kSetter = ~0u;
template <unsigned Roots, unsigned Depth, unsigned PreemptAfter, std::size_t PerChunk,
          rl::test_result_e Expected = rl::test_result_success>
struct handoff_suite : rl::test_suite<handoff_suite<Roots, Depth, PreemptAfter, PerChunk, Expected>,
                                      PreemptAfter == kSetter ? 3 : 2, Expected> {
  world<Roots, Depth> w;
  workq::sync::atomic<bool> preempt{PreemptAfter == 0};
  unsigned a_scans = 0;

  void before() { w.make(2, PerChunk); }

  void count_a_scan() {
    if (++a_scans == PreemptAfter) preempt.store(true, std::memory_order_relaxed);
  }

  void thread(unsigned t) {
    if (t == 2) {  // the setter
      preempt.store(true, std::memory_order_relaxed);
      return;
    }
    cache_t c(*w.pool);
    if (t == 0) {  // A
      drain_options opt;
      opt.mode = drain_mode::until_preempt;
      opt.preempt = &preempt;
      const workq::drain_result r = workq::drain(
          c, *w.roots, &*w.det,
          [&](job_counter::index j, cache_t& cc) {
            const std::uint64_t u = w.work.scan_root(j, cc);
            count_a_scan();
            return u;
          },
          [&](item_t x, cache_t& cc) {
            const std::uint64_t u = w.work.scan(x, cc);
            count_a_scan();
            return u;
          },
          opt);
      check(r.stop == drain_stop::preempted || r.stop == drain_stop::no_work,
            "until_preempt drain: unexpected stop");
      check(c.empty(), "drain returned with items in the cache");
      if (w.det->pause()) w.work.on_done();
      return;
    }
    // B: heap-only participant.
    for (;;) {
      const detector_t::result g = w.det->get_full();
      if (g.done()) {
        w.work.on_done();
        return;
      }
      if (g.buf != nullptr) {
        c.adopt(g.buf);
      } else {
        while (const auto j = w.roots->try_claim()) {
          w.work.scan_root(*j, c);
          w.roots->finish(1);
        }
      }
      item_t x;
      while (c.try_get(x)) w.work.scan(x, c);
    }
  }
  void after() { w.finish(); }
};

// ------------------------------------------------------------- 4. park/wake
// Waiters 1..N-1 call get_full (no roots, empty pool) and park. Thread 0
// publishes one full buffer of two items, notifies (unless Notify is false),
// then pause()s. A waiter that gets the buffer scans it, returns the buffer
// and calls get_full again; all end with `done`.
template <unsigned Threads, bool Notify, rl::test_result_e Expected = rl::test_result_success>
struct park_suite : rl::test_suite<park_suite<Threads, Notify, Expected>, Threads, Expected> {
  boxed<pool_t> pool;
  boxed<job_counter> roots;
  boxed<detector_t> det;
  int scanned[2] = {};
  int outstanding = 0;
  int done_seen = 0;

  void before() {
    pool.make(1);
    roots.make(0);
    det.make(*pool, *roots, Threads, backoff_policy{0, 0});
  }

  void thread(unsigned t) {
    if (t == 0) {
      pool_t::buffer* b = pool->get_empty();
      b->obj[0].store(0);
      b->obj[1].store(1);
      b->nobj.store(2);
      outstanding = 2;
      pool->put_full(b);
      if (Notify) det->notify_work();
      if (det->pause()) {
        check(outstanding == 0, "pause() completed termination with work outstanding");
        ++done_seen;
      }
      return;
    }
    for (;;) {
      const detector_t::result g = det->get_full();
      if (g.done()) {
        check(outstanding == 0, "get_full() returned done with work outstanding");
        ++done_seen;
        return;
      }
      check(g.buf != nullptr, "no roots exist, yet get_full() returned roots");
      const std::size_t n = g.buf->nobj.load();
      for (std::size_t i = 0; i < n; ++i) {
        const item_t x = g.buf->obj[i].load();
        check(x < 2 && scanned[x]++ == 0, "item scanned twice");
        --outstanding;
      }
      g.buf->nobj.store(0);
      pool->put_empty(g.buf);
    }
  }

  void after() {
    check(scanned[0] == 1 && scanned[1] == 1, "item lost");
    check(done_seen >= 1, "nobody observed termination");
    check(det->done(), "detector not terminated at the end");
    det.destroy();
    pool.destroy();
    roots.destroy();
  }
};

// ---------------------------------------------------- resume after `done`
// termination.hpp documents resume() after termination as harmless: the
// participant finds no work and pauses again, re-establishing nwait == nproc.
// A: until_preempt drain (no flag: runs until no_work), pause, resume, pause
// again. B: blocking drain. Both observations of termination must be sound.
struct resume_suite : rl::test_suite<resume_suite, 2> {
  world<1, 1> w;

  void before() { w.make(2, 1); }
  void thread(unsigned t) {
    cache_t c(*w.pool);
    if (t == 0) {
      workq::sync::atomic<bool> never{false};
      drain_options opt;
      opt.mode = drain_mode::until_preempt;
      opt.preempt = &never;
      const workq::drain_result r = w.run_drain(c, opt);
      check(r.stop == drain_stop::no_work, "until_preempt drain: unexpected stop");
      if (w.det->pause()) w.work.on_done();
      w.det->resume();
      if (w.det->pause()) w.work.on_done();
      return;
    }
    const workq::drain_result r = w.run_drain(c, drain_options{});
    check(r.stop == drain_stop::done, "blocking drain returned without termination");
    w.work.on_done();
  }
  void after() { w.finish(); }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  constexpr auto uaf = rl::test_result_user_assert_failed;
  constexpr unsigned depth = 20000;  // execution_depth_limit (scheduling points)

  // 1. Blocking termination. Three-thread bounded search does not finish in
  // minutes even at bound 1 (futex waits may wake spuriously, each wake a new
  // branch), so 3 workers get random search; --long adds the bound-1 run.
  h.bound_and_random<block_suite<2, 2, 1, 1>>("termination.block.2w.2roots.d1", 2, 100000, {},
                                              depth);
  h.random<block_suite<3, 2, 1, 2>>("termination.block.3w.2roots.d1", 200000, {}, depth);
  if (h.long_mode())
    h.bound<block_suite<3, 2, 1, 2>>("termination.block.3w.2roots.d1", 0, {}, depth);

  // 2. The seed's scenario (preempted A pauses, heap-only B), correct build.
  h.bound_and_random<handoff_suite<2, 1, 0, 1>>("termination.handoff.preempt0.2roots", 3, 100000,
                                                {}, depth);
  h.bound_and_random<handoff_suite<1, 1, 1, 1>>("termination.handoff.preempt1.1root", 2, 100000, {},
                                                depth);
  h.bound_and_random<handoff_suite<2, 1, 2, 2>>("termination.handoff.preempt2.2roots", 2, 100000,
                                                {}, depth);
  h.random<handoff_suite<2, 1, kSetter, 2>>("termination.handoff.setter.3t.2roots", 200000, {},
                                            depth);

  // 2. Mutants: each run passes when Relacy finds the bug.
  h.full<handoff_suite<2, 1, 0, 1, uaf>>("termination.mutant.no_root_check", mutant::no_root_check,
                                         depth);
  h.random<handoff_suite<2, 1, kSetter, 2, uaf>>("termination.mutant.no_root_check.3t", 200000,
                                                 mutant::no_root_check, depth);
  h.bound_and_random<handoff_suite<1, 1, 1, 1, uaf>>("termination.mutant.late_withdraw", 2, 100000,
                                                     mutant::late_withdraw, depth);
  // A relaxed arrive lets B's snapshot miss A's arrival (B reads an older
  // nwait) while A's own snapshot reads the stack from before B's pop: nobody
  // declares termination and B sleeps forever -> DEADLOCK.
  h.bound_and_random<handoff_suite<1, 1, 1, 1, rl::test_result_deadlock>>(
      "termination.mutant.relaxed_announce", 2, 100000, mutant::relaxed_announce, depth);

  // 4. Park / wake (no lost wake-up), and the negative control.
  h.bound_and_random<park_suite<2, true>>("termination.park.2t", 3, 100000, {}, depth);
  h.random<park_suite<3, true>>("termination.park.3t", 200000, {}, depth);
  h.bound_and_random<park_suite<2, false, rl::test_result_deadlock>>(
      "termination.park.no_notify.2t", 2, 100000, {}, depth);

  // Resume after termination (documented as harmless).
  h.bound_and_random<resume_suite>("termination.resume_after_done.2t", 2, 100000, {}, depth);
  return h.finish();
}
