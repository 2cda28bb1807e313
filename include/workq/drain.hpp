// workq/drain.hpp — the gcDrain-style drain loop: root jobs first, then buffers.
//
// Descends from the Go runtime's gcDrain (runtime/mgcmark.go) as changed by
// "runtime: perform concurrent scan in GC workers" (2015): a worker first
// claims root jobs from the job counter and scans them, then drains work
// buffers until its mode tells it to stop.
//
// The user supplies two callables:
//   scan_root(job_counter::index job, Cache& cache) -> std::uint64_t units
//   scan(T item, Cache& cache)                      -> std::uint64_t units
// Each may push new items into `cache` (put / put_fast); each returns the
// units of scan work it did (Go counts bytes), which drive credit flushing
// and the periodic checks.
//
// Modes (drain_mode flags; Go: gcDrainFlags)
//   block (no flag)  Returns only at global termination, reached through the
//                    termination_detector (required in this mode). When the
//                    cache runs dry the worker blocks in get_full().
//   until_preempt    Returns when *preempt is set (one relaxed load per
//                    item). Before returning the worker disposes its cache,
//                    so every item it held is on the pool's full stack where
//                    others can take it, and wakes parked waiters.
//   idle             Like until_preempt, and also returns when idle_poll()
//                    says other (non-GC) work is waiting. Polled every
//                    check_every units, not per item.
//   fractional       Like until_preempt, and also returns when `budget` of
//                    wall time since entry is spent. Clock read every
//                    check_every units.
//   flush_credit     Scan work is summed locally and added to *credit in
//                    batches of credit_slack units (Go: gcCreditSlack), with
//                    an optional on_credit callback (Go: gcFlushBgCredit).
//   In every non-blocking mode the drain also returns when it finds no work
//   (cache and full stack dry, no root job): it does not wait.
//
// Balancing: when some participant waits and the full stack is empty, the
// worker hands work away (worker_cache::balance) on every iteration, as Go's
// "if another proc wants a pointer, give it some". After any publication to
// the pool it calls notify_work() so parked waiters wake.
//
// Prefetching: the overload taking a prefetch_ring (prefetch_with<8>(fn))
// puts a small FIFO between the cache and scan(); see prefetch_ring.
//
// On return the cache has been disposed (it holds no buffers): whatever it
// held is in the pool. The caller owns the cache, the counter and the
// detector; drain() only borrows them. `detector` may be nullptr in the
// non-blocking modes (the parameter is not deduced, so a plain nullptr works).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "workq/cache.hpp"
#include "workq/job_counter.hpp"
#include "workq/sync.hpp"
#include "workq/termination.hpp"

WORKQ_NAMESPACE_BEGIN

enum class drain_mode : unsigned {
  block = 0,
  until_preempt = 1u << 0,
  idle = 1u << 1,
  fractional = 1u << 2,
  flush_credit = 1u << 3,
};
constexpr drain_mode operator|(drain_mode a, drain_mode b) noexcept {
  return static_cast<drain_mode>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(drain_mode set, drain_mode flag) noexcept {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

/// Why drain() returned.
enum class drain_stop {
  done,       ///< global termination (blocking mode)
  preempted,  ///< *preempt was set
  idle_poll,  ///< idle mode: idle_poll() asked for the CPU back
  budget,     ///< fractional mode: time budget spent
  no_work,    ///< non-blocking mode: nothing left to take right now
};

struct drain_options {
  drain_mode mode = drain_mode::block;
  /// Preemption request for this worker (non-blocking modes). May be null.
  const sync::atomic<bool>* preempt = nullptr;
  /// idle mode: true when the worker should give the CPU back.
  std::function<bool()> idle_poll;
  /// fractional mode: wall time this call may run.
  std::chrono::nanoseconds budget{0};
  /// flush_credit mode: where credit goes (relaxed adds), and/or a callback.
  sync::atomic<std::int64_t>* credit = nullptr;
  std::function<void(std::int64_t)> on_credit;
  std::int64_t credit_slack = 2000;  ///< Go: gcCreditSlack
  /// Units of scan work between the costly checks (clock, idle poll).
  std::uint64_t check_every = 10000;  ///< Go: drainCheckThreshold (bytes)
  /// Root jobs claimed per fetch_add.
  std::uint64_t root_batch = 1;
};

struct drain_result {
  drain_stop stop = drain_stop::no_work;
  std::uint64_t items = 0;  ///< heap items scanned
  std::uint64_t roots = 0;  ///< root jobs scanned
  std::uint64_t work = 0;   ///< units of scan work reported by the callables
};

/// No prefetching: items are scanned in the order the cache yields them.
struct no_prefetch {
  static constexpr std::size_t depth = 0;
  template <class T>
  void operator()(const T&) const noexcept {}
};

/// Prefetch ring of `Depth` items between the cache and the scanner: an item
/// taken from the cache is handed to `fn` (which issues a prefetch of the
/// memory the scan will touch) and scanned only after Depth more items have
/// been taken. Marking is memory-bound; this hides most of a cache miss per
/// object (Cher, Hosking & Vijaykumar, ASPLOS 2004; Boehm GC's mark FIFO).
/// Ring items are private to the worker but never lost: the drain scans them
/// before it waits or reports no work, and puts them back into the cache
/// before it returns for any other reason.
template <std::size_t Depth, class Fn>
struct prefetch_ring {
  static_assert(Depth >= 1 && (Depth & (Depth - 1)) == 0, "Depth must be a power of 2");
  static constexpr std::size_t depth = Depth;
  Fn fn;
  template <class T>
  void operator()(const T& x) const {
    fn(x);
  }
};
template <std::size_t Depth, class Fn>
prefetch_ring<Depth, std::decay_t<Fn>> prefetch_with(Fn&& fn) {
  return {std::forward<Fn>(fn)};
}

template <class T, std::size_t Capacity, class RootFn, class ScanFn>
drain_result drain(worker_cache<T, Capacity>& cache, job_counter& roots,
                   std::type_identity_t<termination_detector<buffer_pool<T, Capacity>>>* detector,
                   RootFn&& scan_root, ScanFn&& scan, const drain_options& opt = {});

/// drain() with a prefetch stage (see prefetch_ring).
template <class T, std::size_t Capacity, class RootFn, class ScanFn, class Prefetch>
drain_result drain(worker_cache<T, Capacity>& cache, job_counter& roots,
                   std::type_identity_t<termination_detector<buffer_pool<T, Capacity>>>* detector,
                   RootFn&& scan_root, ScanFn&& scan, Prefetch&& prefetch,
                   const drain_options& opt) {
  constexpr std::size_t depth = std::decay_t<Prefetch>::depth;
  constexpr std::size_t ring_slots = depth == 0 ? 1 : depth;
  T ring[ring_slots];
  std::size_t ring_head = 0, ring_len = 0;  // oldest at ring_head
  using clock = std::chrono::steady_clock;
  const bool blocking =
      !has(opt.mode, drain_mode::until_preempt | drain_mode::idle | drain_mode::fractional);
  const bool idle = has(opt.mode, drain_mode::idle);
  const bool fractional = has(opt.mode, drain_mode::fractional);
  const bool flush = has(opt.mode, drain_mode::flush_credit);
  if (blocking && detector == nullptr) sync::fatal("drain: blocking mode needs a detector");

  drain_result r;
  const auto start = fractional ? clock::now() : clock::time_point{};
  std::int64_t credit = 0;  // unflushed scan work
  std::uint64_t until_check = opt.check_every;
  std::uint64_t seen_pub = cache.publications();

  const auto preempted = [&] {
    return !blocking && opt.preempt != nullptr && opt.preempt->load(std::memory_order_relaxed);
  };
  const auto flush_credit = [&] {
    if (credit == 0) return;
    if (opt.credit != nullptr) opt.credit->fetch_add(credit, std::memory_order_relaxed);
    if (opt.on_credit) opt.on_credit(credit);
    credit = 0;
  };
  const auto account = [&](std::uint64_t units) {
    r.work += units;
    if (flush) {
      credit += static_cast<std::int64_t>(units);
      if (credit >= opt.credit_slack) flush_credit();
    }
  };
  const auto notify_if_published = [&] {
    if (detector != nullptr && cache.publications() != seen_pub) {
      seen_pub = cache.publications();
      detector->notify_work();
    }
  };
  // The costly checks, every check_every units (Go: drainCheckThreshold).
  const auto periodic_stop = [&](std::uint64_t units, drain_stop& why) {
    if (until_check > units) {
      until_check -= units;
      return false;
    }
    until_check = opt.check_every;
    if (idle && opt.idle_poll && opt.idle_poll()) {
      why = drain_stop::idle_poll;
      return true;
    }
    if (fractional && clock::now() - start >= opt.budget) {
      why = drain_stop::budget;
      return true;
    }
    return false;
  };

  drain_stop why = drain_stop::no_work;
  for (;;) {
    // Root jobs first (the 2015 change): claimed by fetch_add, scanned here.
    bool stopped = false;
    while (roots.has_unclaimed()) {
      if (preempted()) {
        why = drain_stop::preempted;
        stopped = true;
        break;
      }
      const job_counter::range jobs = roots.claim_batch(opt.root_batch);
      if (jobs.empty()) break;
      std::uint64_t units = 0;
      for (auto j = jobs.begin; j < jobs.end; ++j) units += scan_root(j, cache);
      roots.finish(jobs.size());
      r.roots += jobs.size();
      account(units);
      notify_if_published();
      if (periodic_stop(units, why)) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;

    // Heap work.
    bool want_roots = false;
    for (;;) {
      if (preempted()) {
        why = drain_stop::preempted;
        stopped = true;
        break;
      }
      // Go: "If another proc wants a pointer, give it some."
      if (detector != nullptr && detector->waiting() != 0 &&
          !cache.pool().has_full(std::memory_order_relaxed))
        cache.balance();
      notify_if_published();

      T item;
      if (cache.try_get_fast(item) || cache.try_get(item)) {
        if constexpr (depth != 0) {
          prefetch(item);
          if (ring_len < depth) {  // filling: scan nothing yet
            ring[(ring_head + ring_len++) & (depth - 1)] = item;
            continue;
          }
          T oldest = ring[ring_head];
          ring[ring_head] = item;
          ring_head = (ring_head + 1) & (depth - 1);
          item = oldest;
        }
      } else if (depth != 0 && ring_len != 0) {
        item = ring[ring_head];
        ring_head = (ring_head + 1) & (ring_slots - 1);
        --ring_len;
      } else {
        if (!blocking) {
          why = drain_stop::no_work;
          stopped = true;
          break;
        }
        flush_credit();  // credit must not sit with a worker that waits
        const auto got = detector->get_full();
        if (got.done()) {
          why = drain_stop::done;
          stopped = true;
          break;
        }
        if (got.buf == nullptr) {  // roots appeared: go claim them
          want_roots = true;
          break;
        }
        cache.adopt(got.buf);
        continue;
      }
      const std::uint64_t units = scan(item, cache);
      ++r.items;
      account(units);
      if (periodic_stop(units, why)) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    if (!want_roots) break;
  }

  // Leave everything where others can take it, and tell them.
  for (; ring_len != 0; --ring_len, ring_head = (ring_head + 1) & (ring_slots - 1))
    cache.put(ring[ring_head]);
  cache.dispose();
  notify_if_published();
  flush_credit();
  r.stop = why;
  return r;
}

template <class T, std::size_t Capacity, class RootFn, class ScanFn>
drain_result drain(worker_cache<T, Capacity>& cache, job_counter& roots,
                   std::type_identity_t<termination_detector<buffer_pool<T, Capacity>>>* detector,
                   RootFn&& scan_root, ScanFn&& scan, const drain_options& opt) {
  return drain(cache, roots, detector, std::forward<RootFn>(scan_root), std::forward<ScanFn>(scan),
               no_prefetch{}, opt);
}

WORKQ_NAMESPACE_END
