// workq/termination.hpp — termination detection for a fixed set of workers.
//
// Descends from the Go runtime's getfull with work.nwait / work.nproc
// (runtime/mgcwork.go) and gcMarkWorkAvailable (mgc.go), in the form given by
// "runtime: perform concurrent scan in GC workers" (2015): termination also
// requires that no root job is left unclaimed.
//
// Model
//   `nproc` participants share one buffer_pool and one job_counter of root
//   jobs. A participant is RUNNING (it may hold items and produce work) or
//   WAITING (it holds no items). `nwait` counts waiting participants; all
//   start running (nwait = 0 after reset). A running participant becomes
//   waiting inside get_full() or by pause(); it becomes running again when
//   get_full() returns work/roots, or by resume().
//
//   Termination is the state: nwait == nproc, the full stack is empty and no
//   root job is unclaimed. Nobody can leave it — producing work takes a
//   running participant — so it is stable, and every participant in
//   get_full() returns `done` once it is reached.
//
// Why the root-job condition (the 2015 change)
//   A participant can be waiting while root jobs are unclaimed: a preempted
//   worker stops claiming roots mid-way and pauses (Go's until-preempt
//   background workers did exactly that), and a participant that does only
//   heap work calls get_full() without ever looking at the roots. Without the
//   condition, the last such arrival sees nwait == nproc and an empty full
//   stack and declares termination with roots — and everything reachable only
//   from them — never scanned: the mark phase ends early and live objects are
//   freed. With it, a waiter that sees unclaimed roots withdraws and get_full()
//   returns `roots` so the caller claims them. (verify/ proves the mutant
//   without the condition wrong.)
//
// Consistent snapshot
//   nwait shares one 64-bit word with a departure count (the high 32 bits);
//   every withdraw bumps it. "done" is decided on a snapshot: roots exhausted
//   (monotone within a cycle, so read first); state s1 with nwait == nproc;
//   full stack empty; state still == s1. If nobody departed in between, every
//   participant was waiting throughout, nobody could push or pop, and the
//   empty stack was the stack's state at s1. A waiter withdraws BEFORE its
//   retry pop (Go does the same): if it popped first, a snapshot could see the
//   stack already empty and nwait still == nproc while that waiter holds the
//   buffer (the `late_withdraw` mutant).
//
// Back-off and parking
//   A waiter spins with a CPU pause (spin_rounds rounds, doubling up to 64
//   pauses), then yields (yield_rounds times), then PARKS on an event count
//   (C++20 atomic wait/notify: a futex on Linux), so an idle waiter burns no
//   CPU after well under a millisecond. Go 2015 slept in usleep(100) instead.
//   A producer that publishes work outside a waiting participant's sight must
//   call notify_work() (drain() does it after each publication); whoever
//   completes termination wakes everyone. A lost wake-up is impossible by the
//   Dekker pair (P1)/(N1) below; verify/ checks it (a missed wake-up is a
//   Relacy DEADLOCK).
//
// Ordering (pairs numbered)
//   (T1) arrive: seq_cst RMW. Its release half publishes the buffers this
//        participant pushed before waiting to a snapshot (T4) that counts it.
//   (T2) depart: seq_cst RMW, sequenced before the retry pop; see lfstack (3)
//        for why a snapshot that sees the pop also sees this.
//   (T4)/(T5) snapshot loads: seq_cst; the stack read between them is an
//        acquire load pairing with lfstack push (1) and pop (3).
//   (P1) parker: sleepers += 1, then a seq_cst fence, then re-check the wake
//        conditions. (N1) notifier: publish, seq_cst fence, read sleepers.
//        Fence-to-fence: either the parker sees the work or the notifier sees
//        the sleeper and bumps the epoch the parker waits on.
//   (E1) epoch bump is release, pairs with the acquire in the parker's
//        epoch load/wait (E2).
//
// Ownership
//   The detector borrows the pool and the job counter; both must outlive it.
//   reset() runs only at a quiescent point.
#pragma once

#include <cstdint>

#include "workq/job_counter.hpp"
#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN

/// Spin -> yield -> park schedule for waiters (crossbeam's Backoff in spirit).
struct backoff_policy {
  std::uint32_t spin_rounds = 10;   ///< rounds of 1, 2, 4 .. 64 CPU pauses
  std::uint32_t yield_rounds = 20;  ///< then this many sched yields
  // then park until notified
};

template <class Pool>
class termination_detector {
 public:
  using pool_type = Pool;
  using buffer = typename Pool::buffer;

  /// What get_full() obtained.
  struct result {
    enum class kind { work, roots, done };
    kind what;
    buffer* buf;  ///< the full buffer when what == work; else nullptr
    [[nodiscard]] bool done() const noexcept { return what == kind::done; }
  };

  termination_detector(Pool& pool, job_counter& roots, std::uint32_t nproc,
                       backoff_policy backoff = {})
      : pool_(pool), roots_(roots), nproc_(nproc), backoff_(backoff) {
    if (nproc == 0) sync::fatal("termination_detector: nproc must be >= 1");
  }
  termination_detector(const termination_detector&) = delete;
  termination_detector& operator=(const termination_detector&) = delete;

  /// Quiescent only: a new cycle with `nproc` running participants.
  void reset(std::uint32_t nproc) {
    if (nproc == 0) sync::fatal("termination_detector: nproc must be >= 1");
    nproc_ = nproc;
    state_.store(0, std::memory_order_relaxed);
  }

  /// Go: getfull. Called by a RUNNING participant that holds no items.
  /// Returns a full buffer (caller running, owns it), `roots` (caller
  /// running; claim root jobs, then come back), or `done` (termination; the
  /// caller stays counted as waiting until reset()).
  [[nodiscard]] result get_full() {
    if (buffer* b = pool_.try_get_full()) return {result::kind::work, b};
    arrive();
    waits_.fetch_add(1, std::memory_order_relaxed);
    for (std::uint32_t round = 0;; ++round) {
      if (work_visible(std::memory_order_acquire)) {
        buffer* b;
        if (WORKQ_MUTANT(late_withdraw)) {  // known-bad: pop while still counted
          b = pool_.try_get_full();
          depart();
        } else {
          depart();
          b = pool_.try_get_full();
        }
        if (b != nullptr) return {result::kind::work, b};
        if (roots_visible()) return {result::kind::roots, nullptr};
        arrive();  // lost the race for it; wait again
      }
      if (terminated()) {
        wake_all();
        return {result::kind::done, nullptr};
      }
      back_off(round);
    }
  }

  /// A running participant stops working without waiting in get_full (e.g. a
  /// preempted until-preempt drain, after disposing its cache). Returns true
  /// when this completed termination (and wakes the waiters).
  bool pause() {
    arrive();
    if (!terminated()) return false;
    wake_all();
    return true;
  }

  /// Undo pause(): the participant is running again. Resuming after
  /// termination was reached is harmless — termination means no work exists,
  /// so the participant finds none and pauses (or waits) again, which
  /// re-establishes nwait == nproc; workers that already returned `done` were
  /// right to.
  void resume() { depart(); }

  /// Go: gcMarkWorkAvailable. Racy hint: a full buffer or a root job exists.
  [[nodiscard]] bool work_available() const { return work_visible(std::memory_order_acquire); }

  /// Racy hint; exact once every participant waits.
  [[nodiscard]] bool done() const { return terminated(); }

  /// After publishing work that waiters may not be watching for: wake them
  /// if any is parked. Cheap when none is (a fence and a load).
  void notify_work() {
    // (N1) pairs with the parker's fence (P1).
    sync::fence(std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_relaxed) != 0) wake_all();
  }

  /// Participants currently waiting (racy). Cheap enough to poll per item.
  [[nodiscard]] std::uint32_t waiting() const {
    return nwait_of(state_.load(std::memory_order_relaxed));
  }
  [[nodiscard]] std::uint32_t nproc() const noexcept { return nproc_; }

  // Statistics (relaxed, monotone): get_full calls that had to wait, parks
  // (futex sleeps) and wake-all broadcasts.
  [[nodiscard]] std::uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t parks() const { return parks_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint64_t depart_delta = (std::uint64_t{1} << 32) - 1;  // gen+1, nwait-1
  static std::uint32_t nwait_of(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s); }

  bool roots_visible() const { return !WORKQ_MUTANT(no_root_check) && roots_.has_unclaimed(); }
  bool work_visible(std::memory_order mo) const { return pool_.has_full(mo) || roots_visible(); }

  void arrive() {
    // (T1) seq_cst: publishes our earlier pushes to a snapshot (T4).
    const std::uint64_t s = state_.fetch_add(
        1, WORKQ_MUTANT(relaxed_announce) ? std::memory_order_relaxed : std::memory_order_seq_cst);
    if (nwait_of(s) >= nproc_) sync::fatal("termination_detector: nwait > nproc");
  }

  void depart() {
    // (T2) seq_cst: the withdraw precedes the retry pop (see lfstack (3)).
    const std::uint64_t s = state_.fetch_add(depart_delta, std::memory_order_seq_cst);
    if (nwait_of(s) == 0) sync::fatal("termination_detector: depart without arrive");
  }

  bool terminated() const {
    if (roots_visible()) return false;  // monotone within a cycle: read first
    // (T4) seq_cst: pairs with arrive (T1).
    const std::uint64_t s1 = state_.load(std::memory_order_seq_cst);
    if (nwait_of(s1) != nproc_) return false;
    if (pool_.has_full(std::memory_order_acquire)) return false;  // lfstack (1)/(3)
    // (T5) seq_cst: nobody departed since (T4), so the stack read above is
    // the stack as it was when all were waiting.
    return state_.load(std::memory_order_seq_cst) == s1;
  }

  void back_off(std::uint32_t round) {
    if (round < backoff_.spin_rounds) {
      const std::uint32_t n = 1u << (round < 6 ? round : 6);
      for (std::uint32_t i = 0; i < n; ++i) sync::spin_pause();
    } else if (round < backoff_.spin_rounds + backoff_.yield_rounds) {
      sync::yield();
    } else {
      park();
    }
  }

  void park() {
    // (E2) acquire: pairs with the release bump (E1).
    const std::uint32_t e = epoch_.load(std::memory_order_acquire);
    sleepers_.fetch_add(1, std::memory_order_relaxed);
    // (P1) pairs with the notifier's fence (N1).
    sync::fence(std::memory_order_seq_cst);
    if (!work_visible(std::memory_order_relaxed) && !terminated()) {
      parks_.fetch_add(1, std::memory_order_relaxed);
      epoch_.wait(e, std::memory_order_acquire);  // (E2) as above
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  void wake_all() {
    // (E1) release: pairs with the parker's acquire (E2).
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
    wakeups_.fetch_add(1, std::memory_order_relaxed);
  }

  Pool& pool_;
  job_counter& roots_;
  std::uint32_t nproc_;
  backoff_policy backoff_;
  // Written by every arrival/withdraw; polled by busy workers (waiting()).
  alignas(sync::cache_line) sync::atomic<std::uint64_t> state_{0};  // departures << 32 | nwait
  alignas(sync::cache_line) sync::atomic<std::uint32_t> epoch_{0};
  sync::atomic<std::uint32_t> sleepers_{0};
  alignas(sync::cache_line) sync::atomic<std::uint64_t> waits_{0};
  sync::atomic<std::uint64_t> parks_{0};
  sync::atomic<std::uint64_t> wakeups_{0};
};

WORKQ_NAMESPACE_END
