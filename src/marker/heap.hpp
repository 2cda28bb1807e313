// src/marker/heap.hpp — the production heap for the reference marker: one
// arena of bump-allocated objects, a side mark bitmap, global roots, heap
// builders and the edge-list loader.
//
// Arena
//   One contiguous reservation (mmap, MAP_NORESERVE: pages are committed on
//   first touch). Objects are 16-byte aligned; large arrays (more than
//   oblet_fields fields) start on a 4096-byte boundary (see core.hpp).
//   Builders allocate single-threaded with alloc(); mutators allocate in
//   private 64 KiB chunks carved with one fetch_add (alloc_chunk()).
//
// Mark bitmap
//   One bit per 16-byte granule of the arena, in 64-bit words. try_mark()
//   tests with a relaxed load and only then does the fetch_or.
//
// Globals
//   `globals` is an array of pointer slots (the program's global data). Root
//   jobs cut it into blocks of `global_block` slots.
//
// Heap file format (load_heap_file)
//   Text, one record per line; '#' starts a comment; blank lines are ignored.
//     workq-heap 1 <nobjects>            first non-comment line (magic, version, count)
//     <id> <nfields> <f0> <f1> ...       one line per object, 0 <= id < nobjects, each id once;
//                                        every f is a child id or -1 (null)
//     root <id>                          a global root (any number, any position after line 1)
//   Every id from 0 to nobjects-1 must be defined. Errors are reported as one
//   line "FILE:LINE: what", e.g. "g.txt:7: field 2 of object 5: id 99 out of range".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "marker/core.hpp"
#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN
namespace marker {

/// An error with a one-line message for the user.
struct user_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class heap {
 public:
  static constexpr std::size_t global_block = 512;       ///< global slots per root job
  static constexpr std::size_t chunk_bytes = 64 * 1024;  ///< mutator allocation chunk

  /// Reserve an arena of `capacity` bytes and `nglobals` global slots.
  heap(std::size_t capacity, std::size_t nglobals);
  ~heap();
  heap(const heap&) = delete;
  heap& operator=(const heap&) = delete;

  /// Single-threaded bump allocation (builders); fields null. Throws
  /// user_error when the arena is full.
  object* alloc(std::uint64_t nfields);
  /// Thread-safe: carve a chunk for a mutator; [begin, end) or {nullptr,nullptr}.
  std::pair<char*, char*> alloc_chunk();
  /// Place an object of n (small) fields in a mutator chunk; nullptr if no room.
  static object* alloc_in(char*& cur, char* end, std::uint32_t nfields);

  bool try_mark(object* p) noexcept {
    const std::size_t g = static_cast<std::size_t>(reinterpret_cast<char*>(p) - base_) / granule;
    sync::atomic<std::uint64_t>& w = bits_[g / 64];
    const std::uint64_t m = std::uint64_t{1} << (g % 64);
    if (w.load(std::memory_order_relaxed) & m) return false;
    return (w.fetch_or(m, std::memory_order_relaxed) & m) == 0;
  }
  /// Single-threaded marking (sequential markers): load + store, no RMW.
  bool try_mark_seq(object* p) noexcept {
    const std::size_t g = static_cast<std::size_t>(reinterpret_cast<char*>(p) - base_) / granule;
    sync::atomic<std::uint64_t>& w = bits_[g / 64];
    const std::uint64_t m = std::uint64_t{1} << (g % 64);
    const std::uint64_t v = w.load(std::memory_order_relaxed);
    if (v & m) return false;
    w.store(v | m, std::memory_order_relaxed);
    return true;
  }
  bool is_marked(const object* p) const noexcept {
    const std::size_t g =
        static_cast<std::size_t>(reinterpret_cast<const char*>(p) - base_) / granule;
    return (bits_[g / 64].load(std::memory_order_relaxed) >> (g % 64)) & 1;
  }
  bool contains(const object* p) const noexcept {
    const char* c = reinterpret_cast<const char*>(p);
    return c >= base_ && c < base_ + top_.load(std::memory_order_relaxed);
  }
  /// Quiescent only: clear every mark bit.
  void clear_marks();
  /// Quiescent only: a copy of the mark bitmap (tests compare marked sets).
  std::vector<std::uint64_t> snapshot_marks() const;
  std::size_t count_marked() const;

  std::size_t nglobals() const noexcept { return nglobals_; }
  std::size_t global_blocks() const noexcept {
    return (nglobals_ + global_block - 1) / global_block;
  }
  sync::atomic<object*>& global(std::size_t i) noexcept { return globals_[i]; }
  object* global_value(std::size_t i) const noexcept {
    return globals_[i].load(std::memory_order_acquire);
  }

  std::size_t used_bytes() const noexcept { return top_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return cap_; }
  std::uint64_t objects() const noexcept { return nobjects_; }  ///< built (not mutator-allocated)
  std::uint64_t object_bytes_total() const noexcept { return nbytes_; }
  char* base() const noexcept { return base_; }

 private:
  char* base_ = nullptr;
  std::size_t cap_ = 0;
  sync::atomic<std::size_t> top_{0};
  sync::atomic<std::uint64_t>* bits_ = nullptr;
  std::size_t bitmap_bytes_ = 0;
  std::unique_ptr<sync::atomic<object*>[]> globals_;
  std::size_t nglobals_ = 0;
  std::uint64_t nobjects_ = 0;
  std::uint64_t nbytes_ = 0;
};

/// Heap shapes the builders make.
enum class shape { mixed, trees, graph, lists, arrays };

struct heap_spec {
  shape kind = shape::mixed;
  std::uint64_t objects = 4'000'000;  ///< approximate object count
  std::uint64_t seed = 1;
  std::size_t mutator_headroom = 0;  ///< extra arena bytes for mutator allocation
  bool progress = false;             ///< progress line on stderr when slow
};

/// Upper bound on objects a build may request (memory cap); see check_size.
std::uint64_t max_objects();
/// Throws user_error when `objects` (or the estimated bytes) is absurd.
void check_size(std::uint64_t objects);

/// Build a heap of the given shape. Throws user_error.
std::unique_ptr<heap> build_heap(const heap_spec& spec);
/// Load a heap from a file in the format above. Throws user_error
/// ("FILE:LINE: what").
std::unique_ptr<heap> load_heap_file(const std::string& path, std::size_t mutator_headroom = 0,
                                     bool progress = false);

const char* shape_name(shape s);

}  // namespace marker
WORKQ_NAMESPACE_END
