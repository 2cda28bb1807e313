// workq/sync.hpp — the one sync shim every workq component goes through.
//
// Contract
//   Components never name std::atomic, std::atomic_thread_fence, std::mutex or
//   a CPU pause directly; they use workq::sync::{atomic, var, fence, mutex,
//   spin_pause, yield, fatal}. That is what lets the *same header text* run in
//   production and under the Relacy Race Detector (as crossbeam's `primitive`
//   module does for loom).
//
//   * Production build (default): sync::atomic<T> IS std::atomic<T> and
//     sync::mutex IS std::mutex (static_asserts below); sync::var<T> is a plain
//     T with load()/store() that compile to ordinary moves. Zero overhead.
//   * Verification build (WORKQ_RELACY defined, verify/ only): sync::atomic<T>
//     wraps rl::atomic<T>, sync::var<T> wraps rl::var<T>, sync::mutex wraps
//     rl::mutex; every access records the *caller's* function/file/line (via
//     a trailing defaulted sync::loc argument, so call sites carry
//     no `$`), spin_pause() and yield() become Relacy yields (otherwise full
//     search reports LIVELOCK), and atomic<T>::wait/notify_* are modelled as a
//     futex so Relacy reports a lost wake-up as DEADLOCK.
//
//   The two builds live in different inline namespaces (workq::prod_v1 and
//   workq::relacy_v1), so an object file built one way can never link against
//   code built the other way.
//
// Rules for component authors
//   * Use explicit member calls (load, store, fetch_add, compare_exchange_*):
//     operators and implicit conversions cannot carry a source location.
//   * Plain data that crosses threads (buffer slots, counts handed over with a
//     buffer) is a sync::var<T>, so Relacy reports a data race on it. Under
//     Relacy T must be a scalar (integer or pointer).
//   * Every non-relaxed order carries a comment naming the operation it pairs
//     with.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <type_traits>

#if defined(WORKQ_RELACY)
// Relacy's individual headers, never relacy.hpp: the latter #defines new,
// delete, assert and memory_order_* and breaks every later standard header.
// All standard headers are included above, before these.
#include <relacy/base.hpp>
#include <relacy/context.hpp>
#include <relacy/context_base_impl.hpp>
#include <relacy/backoff.hpp>
#include <relacy/atomic_fence.hpp>
#include <relacy/atomic.hpp>
#include <relacy/var.hpp>
#include <relacy/test_suite.hpp>
#include <relacy/dyn_thread.hpp>
#include <relacy/stdlib/mutex.hpp>
#include <relacy/stdlib/condition_variable.hpp>
#include <relacy/stdlib/semaphore.hpp>
#include <relacy/stdlib/event.hpp>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// Every workq component opens its namespace with these, so that it too lands
// in the build's inline namespace.
#if defined(WORKQ_RELACY)
#define WORKQ_NAMESPACE_BEGIN \
  namespace workq {           \
  inline namespace relacy_v1 {
#else
#define WORKQ_NAMESPACE_BEGIN \
  namespace workq {           \
  inline namespace prod_v1 {
#endif
#define WORKQ_NAMESPACE_END \
  }                         \
  }

WORKQ_NAMESPACE_BEGIN
namespace sync {

/// A call site, captured by a defaulted argument so the *caller's* location
/// is recorded (std::source_location's trick, with the builtins that both
/// GCC and Clang provide).
struct loc {
  const char* file;
  unsigned line;
  const char* function;
  static constexpr loc current(const char* file = __builtin_FILE(),
                               unsigned line = __builtin_LINE(),
                               const char* function = __builtin_FUNCTION()) noexcept {
    return {file, line, function};
  }
};

/// Known-bad variants ("mutants") that verify/ must prove are caught. A
/// component marks the line a mutant changes with WORKQ_MUTANT(name); in the
/// production build the macro is the constant `false` and the mutant branch
/// folds away, so the header text read by users is the text verified, and the
/// mutation points document which lines the proofs depend on. Under Relacy a
/// suite selects one mutant at a time through sync::active_mutant.
enum class mutant {
  none,
  untagged_head,     ///< lfstack: head without push count (ABA)
  relaxed_publish,   ///< lfstack: relaxed instead of release push (buffer contents race)
  claim_load_store,  ///< job_counter: claim by load + store (duplicate claims)
  no_root_check,     ///< termination: done without the "no root job left" test (Go before 2015)
  late_withdraw,     ///< termination: leave nwait after, not before, the retry pop
  relaxed_announce,  ///< termination: relaxed nwait announce
  no_write_barrier,  ///< marker: mutator stores without the write barrier
};

#if defined(WORKQ_RELACY)
inline mutant active_mutant = mutant::none;
#define WORKQ_MUTANT(m) (::workq::sync::active_mutant == ::workq::sync::mutant::m)
#else
inline constexpr mutant active_mutant = mutant::none;
#define WORKQ_MUTANT(m) false
#endif

/// Size of a destructive-interference unit; used to keep hot shared words apart.
inline constexpr std::size_t cache_line = 64;

/// Report a broken invariant and stop. Used for the cheap loud checks the Go
/// runtime calls throw() (lfnodeValidate, "work.nwait > work.nproc", ...).
/// Under Relacy this fails the current test iteration instead of aborting.
[[noreturn]] inline void fatal(const char* what, loc at = loc::current()) {
#if defined(WORKQ_RELACY)
  rl::ctx().fail_test(what, rl::test_result_user_assert_failed,
                      rl::debug_info(at.function, at.file, at.line));
#endif
  std::fprintf(stderr, "workq: fatal: %s (%s:%u)\n", what, at.file, at.line);
  std::abort();
}

#if !defined(WORKQ_RELACY)
// ---------------------------------------------------------------- production

template <class T>
using atomic = std::atomic<T>;
using mutex = std::mutex;

static_assert(std::is_same_v<atomic<std::uint64_t>, std::atomic<std::uint64_t>>);
static_assert(std::is_same_v<mutex, std::mutex>);

/// Plain non-atomic data that is handed between threads by a synchronising
/// atomic (a buffer slot, a buffer's item count). Default construction leaves
/// the value uninitialised, as a plain T would be.
template <class T>
class var {
 public:
  var() = default;
  constexpr explicit var(T v) noexcept : v_(v) {}
  [[nodiscard]] T load() const noexcept { return v_; }
  void store(T v) noexcept { v_ = v; }

 private:
  T v_;
};
static_assert(sizeof(var<void*>) == sizeof(void*));
static_assert(std::is_trivially_copyable_v<var<void*>>);
static_assert(std::is_trivially_default_constructible_v<var<void*>>);

inline void fence(std::memory_order mo) noexcept { std::atomic_thread_fence(mo); }

/// One iteration of a busy-wait: a CPU pause hint.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

/// Give the CPU to another thread.
inline void yield() noexcept { std::this_thread::yield(); }

#else
// --------------------------------------------------------------- Relacy model

inline rl::debug_info info(const loc& at) noexcept {
  return rl::debug_info(at.function, at.file, at.line);
}

inline rl::memory_order to_rl(std::memory_order mo) noexcept {
  switch (mo) {
    case std::memory_order_relaxed:
      return rl::mo_relaxed;
    case std::memory_order_consume:
      return rl::mo_consume;
    case std::memory_order_acquire:
      return rl::mo_acquire;
    case std::memory_order_release:
      return rl::mo_release;
    case std::memory_order_acq_rel:
      return rl::mo_acq_rel;
    case std::memory_order_seq_cst:
      return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

/// rl::atomic<T> behind std::atomic<T>'s member-call interface. Unlike a bare
/// rl::atomic, default construction value-initialises (as C++20 std::atomic).
template <class T>
class atomic {
 public:
  atomic() noexcept : a_(T{}) {}
  atomic(T v) noexcept : a_(v) {}  // NOLINT: mirrors std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) const {
    return a_.load(to_rl(mo), info(at));
  }
  void store(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    a_.store(v, to_rl(mo), info(at));
  }
  T exchange(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    return a_.exchange(v, to_rl(mo), info(at));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure, loc at = loc::current()) {
    return a_.compare_exchange_strong(expected, desired, to_rl(success), info(at), to_rl(failure),
                                      info(at));
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure, loc at = loc::current()) {
    return a_.compare_exchange_weak(expected, desired, to_rl(success), info(at), to_rl(failure),
                                    info(at));
  }
  T fetch_add(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    return a_.fetch_add(v, to_rl(mo), info(at));
  }
  T fetch_sub(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    return a_.fetch_sub(v, to_rl(mo), info(at));
  }
  T fetch_or(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    return a_.fetch_or(v, to_rl(mo), info(at));
  }
  T fetch_and(T v, std::memory_order mo = std::memory_order_seq_cst, loc at = loc::current()) {
    return a_.fetch_and(v, to_rl(mo), info(at));
  }

  /// Futex model of C++20 atomic::wait: blocks while the value equals `old`;
  /// may wake spuriously (callers loop, as they must with std::atomic::wait).
  /// A waiter nobody wakes is reported by Relacy as DEADLOCK.
  void wait(T old, std::memory_order mo = std::memory_order_seq_cst,
            loc at = loc::current()) const {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    T v;
    {
      rl::preemption_disabler pd(c);
      v = a_.load(to_rl(mo), info(at));
    }
    if (v != old) return;
    const_cast<rl::atomic<T>&>(a_).wait(c, false, true, info(at));
  }
  void notify_one(loc at = loc::current()) { wake(1, at); }
  void notify_all(loc at = loc::current()) { wake(rl::thread_id_t(1) << 16, at); }

 private:
  void wake(rl::thread_id_t n, const loc& at) {
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    a_.wake(c, n, info(at));
  }
  rl::atomic<T> a_;
};

/// rl::var<T>: every load and store is checked for data races.
template <class T>
class var {
  static_assert(std::is_scalar_v<T>, "under Relacy a sync::var must hold a scalar");

 public:
  var() = default;
  explicit var(T v) : v_(v) {}
  T load(loc at = loc::current()) const { return v_(info(at)).load(); }
  void store(T v, loc at = loc::current()) { v_(info(at)).store(v); }

 private:
  rl::var<T> v_;
};

class mutex {
 public:
  void lock(loc at = loc::current()) { m_.lock(info(at)); }
  void unlock(loc at = loc::current()) { m_.unlock(info(at)); }
  bool try_lock(loc at = loc::current()) { return m_.try_lock(info(at)); }

 private:
  rl::mutex m_;
};

inline void fence(std::memory_order mo, loc at = loc::current()) {
  rl::atomic_thread_fence(to_rl(mo), info(at));
}
inline void spin_pause(loc at = loc::current()) { rl::yield(1, info(at)); }
inline void yield(loc at = loc::current()) { rl::yield(1, info(at)); }

#endif  // WORKQ_RELACY

/// RAII lock for sync::mutex (std::lock_guard needs no location; this keeps
/// the Relacy build's history pointing at the caller).
class lock_guard {
 public:
  explicit lock_guard(mutex& m) : m_(m) { m_.lock(); }
  ~lock_guard() { m_.unlock(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  mutex& m_;
};

}  // namespace sync
WORKQ_NAMESPACE_END
