// verify/cache_verify.cpp — Relacy suites for workq::worker_cache over one
// buffer_pool.
//
// Every thread owns a worker_cache (a local, as a worker would) bound to one
// shared pool of small buffers, so the slow paths run all the time: put's
// swap and publish when both buffers are full, try_get's swap and refill from
// the pool, balance() handing b2 (or half of b1) to the pool, dispose()
// returning both buffers. Items are unique ids; consumption is marked in
// plain bookkeeping arrays.
//
// Properties
//   * every item put is consumed exactly once: by some thread's try_get, or by
//     the quiescent drain of the pool's full stack in after();
//     duplicate consumption -> USER ASSERT FAILED;
//   * items handed between threads through the pool (slots and counts are
//     sync::var) are read without a data race;
//   * after every cache is disposed, reset() and release() find every buffer
//     home (release() in after(), inside the iteration).
#include <cstddef>
#include <cstdint>

#include "harness.hpp"
#include "workq/cache.hpp"
#include "workq/pool.hpp"

namespace {

using workq_verify::boxed;
using workq_verify::check;
using workq_verify::mutant;

using item = std::uint64_t;

// Scripts, by thread index:
//   producer : put P items (forcing swap + publish), balance(), try_get once, dispose
//   consumer : try_get up to G times, put 1 item, try_get once, dispose
//   mixed    : put 3, try_get 2, balance(), put 1, dispose
template <unsigned Threads, std::size_t Capacity, unsigned PerChunk, unsigned Puts,
          rl::test_result_e Expected = rl::test_result_success>
struct cache_suite
    : rl::test_suite<cache_suite<Threads, Capacity, PerChunk, Puts, Expected>, Threads, Expected> {
  using pool_t = workq::buffer_pool<item, Capacity>;
  using cache_t = workq::worker_cache<item, Capacity>;
  static constexpr unsigned per_thread = 8;
  static constexpr unsigned max_items = Threads * per_thread;
  static_assert(Puts + 1 <= per_thread);

  boxed<pool_t> pool;
  bool produced[max_items] = {};  // test bookkeeping
  int consumed[max_items] = {};
  unsigned next_id[Threads] = {};

  void before() { pool.make(PerChunk); }

  void put(cache_t& c, unsigned t) {
    const unsigned x = t * per_thread + next_id[t]++;
    check(next_id[t] <= per_thread, "script puts too many items");
    produced[x] = true;
    c.put(x);
  }

  void mark(item x) {
    check(x < max_items && produced[x], "got an item nobody put");
    check(consumed[x]++ == 0, "item consumed twice");
  }

  bool get(cache_t& c) {
    item x;
    if (!c.try_get(x)) return false;
    mark(x);
    return true;
  }

  void thread(unsigned t) {
    cache_t c(*pool);
    switch (t % 3) {
      case 0:  // producer
        for (unsigned k = 0; k < Puts; ++k) put(c, t);
        c.balance();
        get(c);
        break;
      case 1:  // consumer
        for (unsigned k = 0; k < 3; ++k) get(c);
        put(c, t);
        get(c);
        break;
      default:  // mixed
        for (unsigned k = 0; k < 3; ++k) put(c, t);
        get(c);
        get(c);
        c.balance();
        put(c, t);
        break;
    }
    c.dispose();
    check(c.empty() && c.size() == 0, "cache not empty after dispose");
  }

  void after() {
    // Quiescent drain: whatever the threads left in the pool.
    while (auto* b = pool->try_get_full()) {
      const std::size_t n = b->nobj.load();
      check(n >= 1 && n <= Capacity, "full buffer with a bad count");
      for (std::size_t i = 0; i < n; ++i) mark(b->obj[i].load());
      b->nobj.store(0);
      pool->put_empty(b);
    }
    for (unsigned x = 0; x < max_items; ++x)
      check(consumed[x] == (produced[x] ? 1 : 0), "item not consumed exactly once");
    pool->reset();
    pool->release();
    pool.destroy();
  }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  // Capacity 2: put 5 = init (2 buffers) + swap + publish + fresh buffer;
  // balance() then publishes b2.
  // Full search is out of reach (tens of stack operations per thread).
  h.bound_and_random<cache_suite<2, 2, 1, 5>>("cache.2t.cap2.chunk1.put5", 3, 100000);
  h.bound_and_random<cache_suite<2, 2, 2, 5>>("cache.2t.cap2.chunk2.put5", 3, 100000);
  h.bound_and_random<cache_suite<3, 2, 2, 5>>("cache.3t.cap2.chunk2.put5", 2, 200000);
  // Capacity 5: balance() with an empty b2 and 5 items in b1 takes the
  // handoff path (half of b1 moves to a fresh buffer, the rest is published).
  h.bound_and_random<cache_suite<2, 5, 2, 5>>("cache.2t.cap5.handoff", 3, 100000);
  // relaxed_publish also breaks the cache's hand-over (it goes through the
  // pool's stacks).
  h.bound<cache_suite<2, 2, 2, 5, rl::test_result_data_race>>("cache.mutant.relaxed_publish.2t", 2,
                                                              mutant::relaxed_publish);
  h.random<cache_suite<3, 2, 1, 5, rl::test_result_data_race>>("cache.mutant.relaxed_publish.3t",
                                                               100000, mutant::relaxed_publish);
  return h.finish();
}
