// workq/cache.hpp — a worker's private cache of work buffers over a buffer_pool.
//
// Descends from the Go runtime's gcWork (runtime/mgcwork.go): put, putFast,
// putBatch, tryGet, tryGetFast, balance, dispose, flushedWork.
//
// Contract
//   * A worker_cache is owned by one thread at a time (Go: one per P). It is
//     bound to one buffer_pool for its whole life; the pool must outlive it.
//     Nothing here is thread-safe except through the pool.
//   * Invariant (Go's): both buffers are present or neither is. The cache
//     takes its two buffers lazily, on the first put or get.
//   * Hysteresis: items go into and come out of the primary buffer (b1); when
//     it runs full (put) or dry (get) the two buffers swap, and only when both
//     are full / both are empty does the cache touch the pool. A worker that
//     alternates put/get around a buffer boundary therefore never thrashes
//     the global stacks.
//   * put/try_get never fail for lack of memory (the pool carves chunks);
//     try_get returns false only when the cache and the pool's full stack are
//     both dry at the time of the call.
//   * Items are popped LIFO from the primary buffer (depth-first locality).
//   * dispose() returns both buffers to the pool (non-empty ones to `full`)
//     and leaves the cache empty-handed; it must run before a quiescent point
//     (termination, pool reset). The destructor disposes.
//   * flushed_work() is set whenever this cache published items to the pool
//     (Go: gcWork.flushedWork, read by mark termination's ragged barrier);
//     take_flushed_work() reads and clears it.
//
// Fast path
//   The primary buffer is held as a cursor [lo_, top_, hi_) of its slots, so
//   put_fast / try_get_fast are one compare, one slot access and one pointer
//   bump, with no load of the buffer header. The buffer's `nobj` is written
//   back only when b1 leaves the cursor (swap, flush, dispose). b2's count
//   lives in b2->nobj.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "workq/pool.hpp"
#include "workq/sync.hpp"
#include "workq/workbuf.hpp"

WORKQ_NAMESPACE_BEGIN

template <class T, std::size_t Capacity = default_workbuf_capacity<T>>
class worker_cache {
 public:
  using pool_type = buffer_pool<T, Capacity>;
  using buffer = typename pool_type::buffer;
  using item_type = T;
  static constexpr std::size_t capacity = Capacity;

  explicit worker_cache(pool_type& pool) noexcept : pool_(&pool) {}
  worker_cache(const worker_cache&) = delete;
  worker_cache& operator=(const worker_cache&) = delete;
  ~worker_cache() { dispose(); }

  [[nodiscard]] pool_type& pool() const noexcept { return *pool_; }

  /// Go: putFast. Adds x if the primary buffer has room; false otherwise.
  [[nodiscard]] bool put_fast(T x) {
    if (top_ == hi_) return false;
    top_->store(x);
    ++top_;
    return true;
  }

  /// Go: put. Always succeeds; may publish a full buffer to the pool.
  void put(T x) {
    if (top_ == hi_) [[unlikely]]
      make_room();
    top_->store(x);
    ++top_;
  }

  /// Go: putBatch. Adds all of xs, publishing full buffers as they fill.
  /// Bypasses the hysteresis: it is meant for bulk producers.
  void put_batch(std::span<const T> xs) {
    while (!xs.empty()) {
      if (top_ == hi_) {
        if (b1_ == nullptr) {
          init();
        } else {
          publish_b1();
          install(pool_->get_empty());
        }
      }
      const std::size_t room = static_cast<std::size_t>(hi_ - top_);
      const std::size_t n = xs.size() < room ? xs.size() : room;
      for (std::size_t i = 0; i < n; ++i) top_[i].store(xs[i]);
      top_ += n;
      xs = xs.subspan(n);
    }
  }

  /// Go: tryGetFast. Takes an item from the primary buffer if it has one.
  [[nodiscard]] bool try_get_fast(T& out) {
    if (top_ == lo_) return false;
    --top_;
    out = top_->load();
    return true;
  }

  /// Go: tryGet. Takes an item from the cache or, failing that, a full buffer
  /// from the pool. False when both are dry.
  [[nodiscard]] bool try_get(T& out) {
    if (top_ == lo_) [[unlikely]] {
      if (!refill()) return false;
    }
    --top_;
    out = top_->load();
    return true;
  }

  /// Take over a full buffer obtained from the pool elsewhere (Go: the
  /// getfull branch of gcWork.get). Precondition: the cache holds no items.
  void adopt(buffer* full) {
    if (b1_ == nullptr) {
      b2_ = pool_->get_empty();
    } else {
      if (!empty()) sync::fatal("worker_cache::adopt: cache still holds items");
      sync_b1();
      pool_->put_empty(b1_);
    }
    install(full);
  }

  /// Go: balance. Hands work to the pool for idle workers: b2 if it holds
  /// anything, else half of b1 when b1 holds more than a few items.
  void balance() {
    if (b1_ == nullptr) return;
    if (b2_->nobj.load() != 0) {
      pool_->put_full(b2_);
      flushed_ = true;
      ++published_;
      b2_ = pool_->get_empty();
    } else if (size1() > 4) {
      handoff();
      flushed_ = true;
    }
  }

  /// Go: dispose. Returns both buffers to the pool; the cache is empty after.
  void dispose() {
    if (b1_ == nullptr) return;
    sync_b1();
    give_back(b1_);
    give_back(b2_);
    b1_ = b2_ = nullptr;
    lo_ = top_ = hi_ = nullptr;
  }

  /// No items cached (the pool may still hold work).
  [[nodiscard]] bool empty() const {
    return b1_ == nullptr || (top_ == lo_ && b2_->nobj.load() == 0);
  }

  /// Items cached locally (both buffers).
  [[nodiscard]] std::size_t size() const { return b1_ == nullptr ? 0 : size1() + b2_->nobj.load(); }

  [[nodiscard]] bool flushed_work() const noexcept { return flushed_; }
  /// Buffers this cache has published to the pool's full stack, ever. A
  /// drain loop compares it against its last value to know when to wake
  /// parked waiters (termination_detector::notify_work).
  [[nodiscard]] std::uint64_t publications() const noexcept { return published_; }
  bool take_flushed_work() noexcept {
    const bool f = flushed_;
    flushed_ = false;
    return f;
  }

 private:
  std::size_t size1() const { return static_cast<std::size_t>(top_ - lo_); }

  void install(buffer* b) {
    b1_ = b;
    lo_ = b->obj;
    hi_ = b->obj + Capacity;
    top_ = lo_ + b->nobj.load();
  }
  void sync_b1() { b1_->nobj.store(size1()); }

  void init() {
    b2_ = pool_->get_empty();
    install(pool_->get_empty());
  }

  void swap12() {
    sync_b1();
    buffer* b = b2_;
    b2_ = b1_;
    install(b);
  }

  void publish_b1() {
    sync_b1();
    pool_->put_full(b1_);
    flushed_ = true;
    ++published_;
  }

  void give_back(buffer* b) {
    if (b->nobj.load() == 0) {
      pool_->put_empty(b);
    } else {
      pool_->put_full(b);
      flushed_ = true;
      ++published_;
    }
  }

  // put's slow path: b1 is full (or absent).
  void make_room() {
    if (b1_ == nullptr) {
      init();
      return;
    }
    swap12();
    if (top_ != hi_) return;  // the other buffer had room
    publish_b1();             // both full: publish one
    install(pool_->get_empty());
  }

  // try_get's slow path: b1 is empty (or absent).
  bool refill() {
    if (b1_ == nullptr) {
      buffer* f = pool_->try_get_full();
      if (f == nullptr) return false;  // nothing to do: take no buffers
      b2_ = pool_->get_empty();
      install(f);
      return true;
    }
    swap12();
    if (top_ != lo_) return true;  // the other buffer had items
    buffer* f = pool_->try_get_full();
    if (f == nullptr) return false;
    sync_b1();
    pool_->put_empty(b1_);
    install(f);
    return true;
  }

  // Go: handoff. Move the newer half of b1 into a fresh buffer that stays
  // primary; publish the older half.
  void handoff() {
    buffer* nb = pool_->get_empty();
    const std::size_t n = size1() / 2;
    top_ -= n;
    for (std::size_t i = 0; i < n; ++i) nb->obj[i].store(top_[i].load());
    nb->nobj.store(n);
    publish_b1();
    install(nb);
  }

  pool_type* pool_;
  sync::var<T>* lo_ = nullptr;  // b1's slots: [lo_, top_) hold items
  sync::var<T>* top_ = nullptr;
  sync::var<T>* hi_ = nullptr;  // lo_ + Capacity
  buffer* b1_ = nullptr;        // primary; its count is top_ - lo_
  buffer* b2_ = nullptr;        // secondary; its count is b2_->nobj
  bool flushed_ = false;
  std::uint64_t published_ = 0;
};

WORKQ_NAMESPACE_END
