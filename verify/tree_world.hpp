// verify/tree_world.hpp — the task-tree workload and the pool/roots/detector
// "world" shared by the termination and drain suites (termination_verify.cpp,
// drain_verify.cpp). Each suite derives its world from world_base and adds
// the way its participants run.
#pragma once

#include <cstddef>
#include <cstdint>

#include "harness.hpp"
#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

namespace workq_verify::tree {

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
struct world_base {
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
};

}  // namespace workq_verify::tree
