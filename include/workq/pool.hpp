// workq/pool.hpp — global full/empty work-buffer stacks over type-stable chunks.
//
// Descends from the Go runtime's work.full / work.empty lists with getempty,
// putempty, putfull, trygetfull and prepareFreeWorkbufs/freeSomeWbufs
// (runtime/mgcwork.go) — as an object, not a global.
//
// Contract
//   * `full` holds buffers with at least one item, `empty` holds buffers with
//     none; both are lfstacks on separate cache lines.
//   * get_empty() pops an empty buffer or, when the empty stack is dry, carves
//     a fresh chunk (Go: a 32 KiB span) under a mutex: one buffer is returned,
//     the rest are pushed onto `empty`. The caller owns the returned buffer.
//   * put_full(b) takes ownership of a buffer holding >= 1 item (partially
//     filled is fine); put_empty(b) of a buffer holding 0 items. Both check
//     the count and fail loudly otherwise (Go: checknonempty/checkempty).
//   * try_get_full() hands a full buffer to the caller, or nullptr.
//   * reset() and release() run only at a quiescent point (no thread inside
//     any pool or cache operation, every worker_cache disposed). Both fail
//     loudly unless the full stack is empty and every carved buffer is back
//     on the empty stack. release() then frees every chunk; reset() keeps them
//     for the next cycle. The destructor releases.
//   * Chunks are never freed at any other time: that is the type-stable
//     memory lfstack's pop relies on.
//   * chunks(), buffers() count what was carved (relaxed; for benchmarks).
#pragma once

#include <cstddef>
#include <new>

#include "workq/lfstack.hpp"
#include "workq/sync.hpp"
#include "workq/workbuf.hpp"

WORKQ_NAMESPACE_BEGIN

template <class T, std::size_t Capacity = default_workbuf_capacity<T>>
class buffer_pool {
 public:
  using item_type = T;
  using buffer = workbuf<T, Capacity>;
  static constexpr std::size_t capacity = Capacity;
  static constexpr std::size_t default_chunk_bytes = 32 * 1024;  ///< Go: workbufAlloc
  static constexpr std::size_t default_buffers_per_chunk = default_chunk_bytes / sizeof(buffer) > 0
                                                               ? default_chunk_bytes /
                                                                     sizeof(buffer)
                                                               : 1;

  explicit buffer_pool(std::size_t buffers_per_chunk = default_buffers_per_chunk)
      : per_chunk_(buffers_per_chunk > 0 ? buffers_per_chunk : 1) {}
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;
  ~buffer_pool() { release(); }

  /// Go: getempty. Never returns nullptr (allocation failure throws bad_alloc).
  [[nodiscard]] buffer* get_empty() {
    if (lfnode* n = empty_.pop()) return static_cast<buffer*>(n);
    return carve();
  }

  /// Go: putempty. b must hold no items.
  void put_empty(buffer* b) {
    if (b->nobj.load() != 0) sync::fatal("buffer_pool::put_empty: buffer is not empty");
    empty_.push(b);
  }

  /// Go: putfull. b must hold at least one item; ownership passes to the pool.
  void put_full(buffer* b) {
    const std::size_t n = b->nobj.load();
    if (n == 0 || n > Capacity) sync::fatal("buffer_pool::put_full: bad item count");
    full_.push(b);
  }

  /// Go: trygetfull. A buffer with >= 1 item, or nullptr.
  [[nodiscard]] buffer* try_get_full() { return static_cast<buffer*>(full_.pop()); }

  /// Racy hint: is a full buffer available? See lfstack::empty for `mo`.
  [[nodiscard]] bool has_full(std::memory_order mo = std::memory_order_acquire) const {
    return !full_.empty(mo);
  }

  /// Quiescent only: check every buffer is home and empty; keep the chunks.
  void reset() { check_home(/*keep=*/true); }

  /// Quiescent only: check every buffer is home, then free all chunks.
  void release() {
    check_home(/*keep=*/false);  // leaves empty_ empty: no node outlives its chunk
    sync::lock_guard g(mu_);
    while (chunk* c = chunks_head_) {
      chunks_head_ = c->next;
      buffer* bufs = c->buffers();
      for (std::size_t i = 0; i < c->count; ++i) bufs[i].~buffer();
      c->~chunk();
      ::operator delete (static_cast<void*>(c), std::align_val_t{sync::cache_line});
    }
    nchunks_.store(0, std::memory_order_relaxed);
    nbuffers_.store(0, std::memory_order_relaxed);
  }

  [[nodiscard]] std::size_t chunks() const { return nchunks_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t buffers() const { return nbuffers_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t buffers_per_chunk() const { return per_chunk_; }

 private:
  struct chunk {
    chunk* next = nullptr;
    std::size_t count = 0;
    static constexpr std::size_t header =
        (sizeof(chunk*) + sizeof(std::size_t) + sync::cache_line - 1) / sync::cache_line *
        sync::cache_line;
    buffer* buffers() {
      return reinterpret_cast<buffer*>(reinterpret_cast<unsigned char*>(this) + header);
    }
  };

  // Slow path of get_empty (Go: the wbufSpans branch). Rare: once per
  // per_chunk_ buffers ever used, so a mutex is fine here.
  buffer* carve() {
    sync::lock_guard g(mu_);
    // Another thread may have carved while we waited for the lock.
    if (lfnode* n = empty_.pop()) return static_cast<buffer*>(n);
    void* mem = ::operator new (chunk::header + per_chunk_ * sizeof(buffer),
                                std::align_val_t{sync::cache_line});
    chunk* c = ::new (mem) chunk;
    buffer* bufs = c->buffers();
    for (std::size_t i = 0; i < per_chunk_; ++i) {
      buffer* b = ::new (static_cast<void*>(bufs + i)) buffer;
      lfstack::validate(b);  // Go: lfnodeValidate
      ++c->count;
      if (i > 0) empty_.push(b);
    }
    c->next = chunks_head_;
    chunks_head_ = c;
    nchunks_.fetch_add(1, std::memory_order_relaxed);
    nbuffers_.fetch_add(per_chunk_, std::memory_order_relaxed);
    return bufs;
  }

  // Pops every empty buffer to count it; pushes them back when `keep`.
  // Quiescent only, so the pops and pushes here race with nothing.
  void check_home(bool keep) {
    if (!full_.empty(std::memory_order_relaxed))
      sync::fatal("buffer_pool: full buffers left at a quiescent reset/release");
    lfnode* list = nullptr;
    std::size_t n = 0;
    while (lfnode* b = empty_.pop()) {
      b->next.store(reinterpret_cast<std::uintptr_t>(list), std::memory_order_relaxed);
      list = b;
      ++n;
    }
    while (keep && list) {
      lfnode* next = reinterpret_cast<lfnode*>(list->next.load(std::memory_order_relaxed));
      empty_.push(list);
      list = next;
    }
    if (n != buffers())
      sync::fatal("buffer_pool: buffers still held by workers at a quiescent reset/release");
  }

  alignas(sync::cache_line) lfstack full_;
  alignas(sync::cache_line) lfstack empty_;
  alignas(sync::cache_line) sync::mutex mu_;
  chunk* chunks_head_ = nullptr;  // guarded by mu_
  std::size_t per_chunk_;
  sync::atomic<std::size_t> nchunks_{0};
  sync::atomic<std::size_t> nbuffers_{0};
};

WORKQ_NAMESPACE_END
