// workq/workbuf.hpp — a fixed-capacity buffer of work items on an lfnode.
//
// Descends from the Go runtime's workbuf (runtime/mgcwork.go).
//
// Contract
//   * A workbuf is owned by exactly one party at a time: a worker_cache, a
//     buffer_pool stack, or a thread between pop and push. Its fields are
//     plain data (sync::var, so Relacy checks them for races); ownership
//     moves only through lfstack push (release) / pop (acquire), which is what
//     makes handing a buffer to another thread race-free.
//   * obj[0..nobj) hold items; obj[nobj..capacity) are garbage. While a
//     worker_cache holds a buffer, the cache's own cursor is authoritative and
//     `nobj` is written back when the buffer leaves the cache.
//   * Workbufs live in type-stable chunks owned by a buffer_pool: never
//     delete one; the pool frees whole chunks at a quiescent point.
//
// Geometry
//   The default capacity reproduces Go's: 2048-byte buffers whose 24-byte
//   header (lfnode 16 + nobj 8) leaves 253 pointer-sized slots on 64-bit.
//   Capacity is a template parameter so verification can use 2-4 slots.
#pragma once

#include <cstddef>

#include "workq/lfstack.hpp"
#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN

inline constexpr std::size_t workbuf_bytes = 2048;  ///< Go: _WorkbufSize
inline constexpr std::size_t workbuf_header_bytes = sizeof(lfnode) + sizeof(std::size_t);

/// Slots that fill a workbuf_bytes buffer with items of type T.
template <class T>
inline constexpr std::size_t default_workbuf_capacity = (workbuf_bytes - workbuf_header_bytes) /
                                                        sizeof(T);

template <class T, std::size_t Capacity = default_workbuf_capacity<T>>
struct workbuf : lfnode {
  static_assert(Capacity >= 1, "a workbuf holds at least one item");
  static constexpr std::size_t capacity = Capacity;

  sync::var<std::size_t> nobj{0};  ///< items in obj[0..nobj) while not in a cache
  sync::var<T> obj[Capacity];
};

#if !defined(WORKQ_RELACY)
static_assert(workbuf_header_bytes == 24);
static_assert(default_workbuf_capacity<void*> == 253, "Go's geometry: 253 slots on 64-bit");
static_assert(sizeof(workbuf<void*>) == workbuf_bytes, "Go's geometry: 2048-byte buffers");
#endif

WORKQ_NAMESPACE_END
