// verify/marker.cpp — Relacy suites for the reference marker's core
// (src/marker/core.hpp: mark bits, object scan, hybrid write barrier,
// stack-scan handshake, termination flush), on a tiny heap.
//
// Heap (4 objects, one global slot):
//   g0 -> R;  R.f0 -> A, R.f1 -> B;  A.f0 -> C;  B.f0 = null;  C has no fields.
// Threads: 2 mark workers (blocking workq::drain, one worker_cache each,
// sharing a termination_detector) and 1 mutator. Root jobs: 0 = the global
// block {g0}, 1 = the mutator's stack (a handshake: the claiming worker
// requests, the mutator scans itself at its next poll).
// The mutator runs the classic hiding move with polls in between:
//     R = g0; A = R.f0; B = R.f1;   (loads into its stack)
//     C = A.f0; A.f0 = null;        (load C into the stack, delete it from A)
//     B.f0 = C; drop C, A, B, R;    (store it into B, forget it)
// then keeps polling until both workers have finished the concurrent phase.
// after() is mark termination: the mutator is held (its thread has ended),
// job_counter reset to one job (flush its barrier buffer), detector reset,
// the same drain path, check_all_done, pool quiescent checks; then the
// completeness check: every object reachable from g0 (C via B, in the final
// heap) is marked.
//
// Properties: complete under the barrier (USER ASSERT FAILED otherwise); no
// data race on the objects' fields or the handoffs; no deadlock/livelock in
// the handshake. Mutant no_write_barrier (sync::mutant, the same line as the
// production --no-barrier switch): a worker scans B (black) before the move
// and A after it, C is never marked -> USER ASSERT FAILED.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"
#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"
#include "../src/marker/core.hpp"

namespace {

using workq::backoff_policy;
using workq::job_counter;
using workq::marker::item;
using workq::marker::object;
using workq::marker::object_item;
using workq_verify::boxed;
using workq_verify::check;
using workq_verify::mutant;

using pool_t = workq::buffer_pool<item, 2>;
using cache_t = workq::worker_cache<item, 2>;
using detector_t = workq::termination_detector<pool_t>;

// An object with room for two fields laid out right after its header, as
// object::fields() expects.
struct tiny_object {
  object hdr;
  workq::sync::atomic<object*> f[2];
};

constexpr unsigned nobj = 4;  // R, A, B, C
enum : unsigned { R, A, B, C };

struct tiny_heap {
  tiny_object objs[nobj];
  workq::sync::atomic<std::uint64_t> bits{0};

  unsigned index(const object* p) const {
    for (unsigned i = 0; i < nobj; ++i)
      if (&objs[i].hdr == p) return i;
    check(false, "pointer outside the tiny heap");
    return 0;
  }
  // Same protocol as the production bitmap: relaxed test, then fetch_or.
  bool try_mark(object* p) {
    const std::uint64_t m = std::uint64_t{1} << index(p);
    if (bits.load(std::memory_order_relaxed) & m) return false;
    return (bits.fetch_or(m, std::memory_order_relaxed) & m) == 0;
  }
  bool is_marked(object* p) { return (bits.load(std::memory_order_relaxed) >> index(p)) & 1; }
  object* at(unsigned i) { return &objs[i].hdr; }
};

using mutator_t = workq::marker::mutator<tiny_heap, cache_t, detector_t, 4, 4>;

template <rl::test_result_e Expected = rl::test_result_success>
struct hide_suite : rl::test_suite<hide_suite<Expected>, 3, Expected> {
  tiny_heap heap;
  workq::sync::atomic<object*> g0{nullptr};
  workq::sync::atomic<unsigned> workers_done{0};
  boxed<pool_t> pool;
  boxed<job_counter> roots;
  boxed<detector_t> det;
  boxed<mutator_t> mut;

  void before() {
    static const std::uint32_t nf[nobj] = {2, 1, 1, 0};
    for (unsigned i = 0; i < nobj; ++i) {
      heap.objs[i].hdr.nfields = nf[i];
      heap.objs[i].hdr.flags = 0;
      check(static_cast<void*>(&heap.objs[i].f[0]) == static_cast<void*>(&heap.objs[i].hdr + 1),
            "fields must follow the header");
      heap.objs[i].f[0].store(nullptr, std::memory_order_relaxed);
      heap.objs[i].f[1].store(nullptr, std::memory_order_relaxed);
    }
    heap.objs[R].f[0].store(heap.at(A), std::memory_order_relaxed);
    heap.objs[R].f[1].store(heap.at(B), std::memory_order_relaxed);
    heap.objs[A].f[0].store(heap.at(C), std::memory_order_relaxed);
    g0.store(heap.at(R), std::memory_order_relaxed);
    heap.bits.store(0, std::memory_order_relaxed);
    workers_done.store(0, std::memory_order_relaxed);
    pool.make(std::size_t{2});
    roots.make(job_counter::index{2});
    det.make(*pool, *roots, 2u, backoff_policy{0, 2});
    mut.make(heap, *pool, &*det);
    mut->begin_cycle();
  }

  std::uint64_t scan_root(job_counter::index j, cache_t& c) {
    if (j == 0) {
      object* p = g0.load(std::memory_order_acquire);
      if (p != nullptr && heap.try_mark(p)) c.put(object_item(p));
      return 8;
    }
    return mut->request_scan([] { workq::sync::yield(); });
  }
  std::uint64_t scan(item it, cache_t& c) {
    return workq::marker::scan_item(heap, it, [&](item x) { c.put(x); });
  }

  void thread(unsigned t) {
    if (t < 2) {
      cache_t c(*pool);
      (void)workq::drain(
          c, *roots, &*det, [&](job_counter::index j, cache_t& cc) { return scan_root(j, cc); },
          [&](item x, cache_t& cc) { return scan(x, cc); });
      workers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    mutator_t& m = *mut;
    object*(&st)[4] = m.stack;
    m.poll();
    st[0] = mutator_t::read(g0);               // R
    st[1] = mutator_t::read(st[0]->field(0));  // A
    st[2] = mutator_t::read(st[0]->field(1));  // B
    m.poll();
    st[3] = mutator_t::read(st[1]->field(0));  // C
    m.write(st[1]->field(0), nullptr);         // delete C from A
    m.poll();
    m.write(st[2]->field(0), st[3]);          // store C into B
    st[3] = st[1] = st[2] = st[0] = nullptr;  // drop everything
    // Keep answering handshakes until the concurrent phase is over.
    while (workers_done.load(std::memory_order_acquire) != 2) {
      m.poll();
      workq::sync::yield();
    }
  }

  void after() {
    // Mark termination: the mutator is held; one root job flushes it.
    roots->check_all_done();
    roots->reset(1);
    det->reset(1);
    {
      cache_t c(*pool);
      (void)workq::drain(
          c, *roots, &*det, [&](job_counter::index, cache_t& cc) { return mut->flush_held(cc); },
          [&](item x, cache_t& cc) { return scan(x, cc); });
    }
    roots->check_all_done();
    pool->reset();
    // Completeness: everything reachable from g0 in the final heap is marked.
    object* stack[8];
    unsigned n = 0;
    bool seen[nobj] = {};
    stack[n++] = g0.load(std::memory_order_relaxed);
    while (n > 0) {
      object* o = stack[--n];
      if (o == nullptr || seen[heap.index(o)]) continue;
      seen[heap.index(o)] = true;
      check(heap.is_marked(o), "reachable object left unmarked");
      for (std::uint32_t i = 0; i < o->nfields; ++i)
        stack[n++] = o->field(i).load(std::memory_order_relaxed);
    }
    check(seen[C], "test bug: C should be reachable via B");
    mut.destroy();
    det.destroy();
    pool.destroy();
    roots.destroy();
  }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  constexpr auto uaf = rl::test_result_user_assert_failed;
  // Random schedules only: the handshake and park spin loops make bounded
  // search intractable (a context bound of 1 ran > 10 minutes).
  h.random<hide_suite<>>("marker.hide.2w1m", 200000, mutant::none, 20000);
  h.random<hide_suite<uaf>>("marker.mutant.no_write_barrier", 200000, mutant::no_write_barrier,
                            20000);
  return h.finish();
}
