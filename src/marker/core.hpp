// src/marker/core.hpp — the reference concurrent marker's core: object layout,
// work items, object scan, hybrid write barrier, mutator safepoint handshakes.
//
// This header is built twice: normally (workq-mark, tests) and with
// WORKQ_RELACY (verify/marker.cpp, a tiny heap). Everything shared between
// threads goes through workq::sync (atomic / var), so the same text is what
// Relacy checks. It uses only the public workq headers.
//
// Objects
//   An object is an 8-byte header {nfields, flags} followed by nfields pointer
//   fields, each a sync::atomic<object*> (mutators race with scanners). In
//   production objects are bump-allocated in an arena with 16-byte alignment
//   (a side mark bitmap has one bit per 16-byte granule). Arrays with more
//   than oblet_fields fields ("large" objects) start on a 4096-byte boundary
//   and are scanned in bounded chunks ("oblets", Go: maxObletBytes = 128 KiB)
//   so one object cannot stall a worker.
//
// Work items (std::uintptr_t)
//   * an object start: the object's address (low 4 bits zero); scanning it
//     scans the first oblet of a large object and enqueues the others;
//   * an oblet k >= 1 of a large object: address | k << 1 | 1 (k < 2048).
//   Only objects that this thread newly marked are enqueued (mark test+set
//   before the push), so each object is scanned exactly once.
//
// Write barrier (Go's hybrid barrier, Go 1.8 proposal 17503)
//   write(slot, val):  shade(*slot)                     -- Yuasa deletion
//                      if this mutator's stack is grey: shade(val)  -- Dijkstra insertion
//                      *slot = val
//   plus black allocation (objects allocated while marking are marked at
//   birth and never scanned). A stack is therefore scanned exactly once and
//   never rescanned. "shade" records the pointer in a per-mutator barrier
//   buffer (Go: wbBuf); the buffer is flushed — pointers marked, newly marked
//   ones greyed into the mutator's own worker_cache, the cache disposed into
//   the pool, detector.notify_work() — when it fills, at the stack scan, and at
//   mark termination (by the worker that claims the mutator's termination
//   root job while the mutator is held at its safepoint). A buffered pointer
//   is grey: it is held by a root that termination always flushes.
//   The barrier can be switched off at run time (mutator::barrier = false, the
//   `--no-barrier` debug option) and, under Relacy, by the mutant
//   sync::mutant::no_write_barrier on the same line.
//
// Stack scanning by handshake (the seed's preemption-deadlock rule)
//   Workers never scan another thread's stack while it runs. A worker that
//   claims mutator m's stack root job posts a scan request and waits; the
//   mutator scans its own stack at its next safepoint poll, greys what it
//   finds into its own cache, disposes it, and acknowledges. Mutators never
//   wait for workers during the concurrent phase, so the waiting worker always
//   makes progress (mutators poll once per step). Only at mark termination,
//   while a mutator is held at a safepoint, does a worker touch its state.
//
// Memory order
//   A pointer store into a heap slot is a release (the new object's header,
//   fields and mark bit were written before it); a scanner's or mutator's
//   load of a slot is an acquire. Mark bits: a relaxed load first, the
//   fetch_or (relaxed) only if clear; ownership of a grey object moves through
//   the workbufs (lfstack release/acquire).
#pragma once

#include <cstddef>
#include <cstdint>

#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN
namespace marker {

using item = std::uintptr_t;

inline constexpr std::size_t granule = 16;              ///< mark bitmap: one bit per 16 bytes
inline constexpr std::size_t oblet_bytes = 128 * 1024;  ///< Go: maxObletBytes
inline constexpr std::uint32_t oblet_fields = oblet_bytes / 8;
inline constexpr std::size_t large_align = 4096;   ///< large objects start on a page
inline constexpr std::uint32_t max_oblets = 2048;  ///< k < 2048 fits the item tag
inline constexpr std::uint64_t max_fields = std::uint64_t{oblet_fields} * max_oblets;

struct object {
  std::uint32_t nfields;
  std::uint32_t flags;  ///< unused by the marker; kept for an 8-byte header

  sync::atomic<object*>* fields() noexcept {
    return reinterpret_cast<sync::atomic<object*>*>(this + 1);
  }
  sync::atomic<object*>& field(std::uint32_t i) noexcept { return fields()[i]; }
};
static_assert(sizeof(object) == 8, "8-byte object header");

/// Bytes an object with n fields occupies in the production arena.
constexpr std::size_t object_bytes(std::uint64_t n) noexcept {
  return static_cast<std::size_t>((sizeof(object) + 8 * n + granule - 1) / granule * granule);
}
constexpr bool is_large(std::uint64_t n) noexcept { return n > oblet_fields; }

inline item object_item(object* o) noexcept { return reinterpret_cast<item>(o); }
inline item oblet_item(object* o, std::uint32_t k) noexcept {
  return reinterpret_cast<item>(o) | (item{k} << 1) | 1;
}

#if defined(WORKQ_RELACY)
inline void prefetch(const void*) noexcept {}
#else
inline void prefetch(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
#endif

/// Scan one work item. `Heap` provides `bool try_mark(object*)` (relaxed test,
/// then fetch_or; true iff this call set the bit). `push(item)` greys an item.
/// Returns the units of scan work (bytes of fields scanned plus the header).
template <class Heap, class Push>
std::uint64_t scan_item(Heap& heap, item it, Push&& push) {
  object* o;
  std::uint32_t begin, end;
  if (it & 1) {  // oblet k >= 1 of a large object
    o = reinterpret_cast<object*>(it & ~item{large_align - 1});
    const std::uint32_t k = static_cast<std::uint32_t>((it >> 1) & (max_oblets - 1));
    const std::uint32_t n = o->nfields;
    begin = k * oblet_fields;
    end = n - begin > oblet_fields ? begin + oblet_fields : n;
  } else {
    o = reinterpret_cast<object*>(it);
    const std::uint32_t n = o->nfields;
    begin = 0;
    end = n;
    if (is_large(n)) [[unlikely]] {
      const std::uint32_t oblets = (n + oblet_fields - 1) / oblet_fields;
      for (std::uint32_t k = oblets - 1; k >= 1; --k) push(oblet_item(o, k));
      end = oblet_fields;
    }
  }
  sync::atomic<object*>* f = o->fields();
  for (std::uint32_t i = begin; i < end; ++i) {
    // acquire: pairs with the release store of the pointer (mutator write).
    object* p = f[i].load(std::memory_order_acquire);
    if (p != nullptr && heap.try_mark(p)) push(object_item(p));
  }
  return sizeof(object) + std::uint64_t{end - begin} * 8;
}

/// A mutator's GC-visible state: its stack (pointer slots only it writes),
/// its barrier buffer, and the safepoint handshake words.
///
/// Handshakes (each word written by one side, read by the other):
///   scan_req  worker -> mutator (release): please scan your stack.
///   scan_ack  mutator -> worker (release): stack scanned, greys published.
///   stop_req  coordinator -> mutator (release): stop at your next safepoint.
///   stopped   mutator -> coordinator (release): held; my state is yours.
///   go        coordinator -> mutator (release): leave the safepoint (exit).
template <class Heap, class Cache, class Detector, unsigned StackSlots, unsigned WbCap>
class mutator {
 public:
  using pool_type = typename Cache::pool_type;

  mutator(Heap& heap, pool_type& pool, Detector* detector) noexcept
      : heap_(&heap), cache_(pool), detector_(detector) {
    for (auto& s : stack) s = nullptr;
  }

  // ---- stack (mutator-private; read by others only while held) ----------
  object* stack[StackSlots];
  bool stack_scanned = false;
  bool barrier = true;  ///< false: the --no-barrier debug switch (a known-bad run)

  /// Start a cycle: stack grey, buffer empty. Quiescent only.
  void begin_cycle() {
    stack_scanned = false;
    wbn_ = 0;
    scan_req.store(0, std::memory_order_relaxed);
    scan_ack.store(0, std::memory_order_relaxed);
    stop_req.store(0, std::memory_order_relaxed);
    stopped.store(0, std::memory_order_relaxed);
    go.store(0, std::memory_order_relaxed);
  }

  /// Pointer load from a heap slot or global into the mutator's hands.
  static object* read(sync::atomic<object*>& slot) {
    // acquire: pairs with the release in write().
    return slot.load(std::memory_order_acquire);
  }

  /// Pointer store through the hybrid write barrier.
  void write(sync::atomic<object*>& slot, object* val) {
    if (barrier && !WORKQ_MUTANT(no_write_barrier)) {
      if (object* old = slot.load(std::memory_order_relaxed)) shade(old);  // Yuasa deletion
      if (!stack_scanned && val != nullptr) shade(val);  // Dijkstra insertion while grey
    }
    // release: the object `val` (header, fields, black mark) happens-before
    // any thread that acquires this pointer.
    slot.store(val, std::memory_order_release);
  }

  /// Black allocation: mark a freshly allocated object before publishing it.
  void allocated(object* o) { (void)heap_->try_mark(o); }

  /// Safepoint poll: answers a stack-scan request; true when asked to stop
  /// (the caller then calls hold()).
  bool poll() {
    const std::uint32_t r = scan_req.load(std::memory_order_acquire);  // pairs with request_scan
    if (r != 0 && !stack_scanned) scan_own_stack();
    return stop_req.load(std::memory_order_acquire) != 0;  // pairs with request_stop
  }

  /// Stop at the safepoint: publish our state to the coordinator, then wait
  /// until released. The barrier buffer stays unflushed: the termination
  /// root job for this mutator flushes it.
  template <class Wait>
  void hold(Wait&& wait) {
    stopped.store(1, std::memory_order_release);  // pairs with wait_stopped
    while (go.load(std::memory_order_acquire) == 0) wait();
  }

  // ---- the worker / coordinator side ----------------------------------
  /// Worker: stack root job for this mutator. Request the self-scan, wait for
  /// the acknowledgement. Returns the scan units the mutator reported.
  template <class Wait>
  std::uint64_t request_scan(Wait&& wait) {
    scan_req.store(1, std::memory_order_release);                  // pairs with poll
    while (scan_ack.load(std::memory_order_acquire) == 0) wait();  // pairs with scan_own_stack
    return sizeof(object*) * StackSlots;
  }

  void request_stop() { stop_req.store(1, std::memory_order_release); }
  bool is_stopped() const { return stopped.load(std::memory_order_acquire) != 0; }
  void release() { go.store(1, std::memory_order_release); }

  /// Termination root job, run by a worker while this mutator is held at a
  /// safepoint: scan its stack if it never was (defensive) and flush its
  /// barrier buffer into the worker's cache.
  template <class WorkerCache>
  std::uint64_t flush_held(WorkerCache& wc) {
    std::uint64_t units = 0;
    if (!stack_scanned) {
      for (object* p : stack)
        if (p != nullptr && heap_->try_mark(p)) wc.put(object_item(p));
      stack_scanned = true;
      units += sizeof(object*) * StackSlots;
    }
    units += sizeof(object*) * wbn_;
    for (unsigned i = 0; i < wbn_; ++i)
      if (heap_->try_mark(wb_[i])) wc.put(object_item(wb_[i]));
    wbn_ = 0;
    return units;
  }

  [[nodiscard]] unsigned buffered() const noexcept { return wbn_; }
  [[nodiscard]] std::uint64_t flushes() const noexcept { return flushes_; }
  [[nodiscard]] std::uint64_t shaded() const noexcept { return shaded_; }

  sync::atomic<std::uint32_t> scan_req{0};
  sync::atomic<std::uint32_t> scan_ack{0};
  sync::atomic<std::uint32_t> stop_req{0};
  sync::atomic<std::uint32_t> stopped{0};
  sync::atomic<std::uint32_t> go{0};

 private:
  void shade(object* p) {
    ++shaded_;
    wb_[wbn_++] = p;
    if (wbn_ == WbCap) flush_own();
  }

  // Grey the buffered pointers into our own cache and hand it to the pool.
  void flush_own() {
    for (unsigned i = 0; i < wbn_; ++i)
      if (heap_->try_mark(wb_[i])) cache_.put(object_item(wb_[i]));
    wbn_ = 0;
    publish();
  }

  void publish() {
    ++flushes_;
    cache_.dispose();  // non-empty buffers go to the pool's full stack
    if (detector_ != nullptr) detector_->notify_work();
  }

  void scan_own_stack() {
    for (object* p : stack)
      if (p != nullptr && heap_->try_mark(p)) cache_.put(object_item(p));
    stack_scanned = true;  // from now on: deletion barrier only
    for (unsigned i = 0; i < wbn_; ++i)
      if (heap_->try_mark(wb_[i])) cache_.put(object_item(wb_[i]));
    wbn_ = 0;
    publish();
    scan_ack.store(1, std::memory_order_release);  // pairs with request_scan
  }

  Heap* heap_;
  Cache cache_;
  Detector* detector_;
  object* wb_[WbCap];
  unsigned wbn_ = 0;
  std::uint64_t flushes_ = 0;
  std::uint64_t shaded_ = 0;
};

}  // namespace marker
WORKQ_NAMESPACE_END
