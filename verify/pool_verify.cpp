// verify/pool_verify.cpp — Relacy suites for workq::buffer_pool.
//
// Scenario: a pool of capacity-2 buffers with 1 or 2 buffers per chunk, so
// carve() (under the pool mutex) runs concurrently with lock-free pops of the
// empty stack, and buffers are reused (full -> consumed -> empty -> refilled).
// Every thread alternates: produce (get_empty, fill 1 or 2 slots, put_full),
// then consume (try_get_full, read the slots, put_empty).
//
// Properties
//   * every produced item is consumed exactly once (threads, plus a drain of
//     the full stack in after()); duplicate consumption -> USER ASSERT FAILED;
//   * buffer contents (sync::var slots and nobj) are handed over race-free:
//     written before put_full / put_empty, read after try_get_full /
//     get_empty by another thread (Relacy race-checks every slot);
//   * a buffer from get_empty holds no items; one from try_get_full holds 1..2;
//   * at the quiescent end reset() and release() find every buffer home
//     (release() frees the chunks inside the iteration, in after()).
// Mutant relaxed_publish (relaxed push CAS) -> DATA RACE on buffer contents.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"
#include "workq/pool.hpp"

namespace {

using workq_verify::boxed;
using workq_verify::check;
using workq_verify::mutant;

using item = std::uint64_t;
using pool_t = workq::buffer_pool<item, 2>;
using buffer = pool_t::buffer;

template <unsigned Threads, unsigned PerChunk, unsigned Rounds,
          rl::test_result_e Expected = rl::test_result_success>
struct pool_suite
    : rl::test_suite<pool_suite<Threads, PerChunk, Rounds, Expected>, Threads, Expected> {
  static constexpr unsigned max_items = Threads * Rounds * 2;
  boxed<pool_t> pool;
  int consumed[max_items] = {};  // test bookkeeping
  bool produced[max_items] = {};

  void before() { pool.make(PerChunk); }

  static unsigned id(unsigned t, unsigned r, unsigned i) { return (t * Rounds + r) * 2 + i; }

  void produce(unsigned t, unsigned r) {
    buffer* b = pool->get_empty();
    check(b != nullptr, "get_empty returned null");
    check(b->nobj.load() == 0, "get_empty returned a buffer holding items");
    const unsigned n = 1 + (t + r) % 2;  // partially filled and full buffers
    for (unsigned i = 0; i < n; ++i) {
      b->obj[i].store(id(t, r, i));
      produced[id(t, r, i)] = true;
    }
    b->nobj.store(n);
    pool->put_full(b);
  }

  void consume(buffer* b) {
    // Read a slot first (n >= 1 always): under relaxed_publish the race is
    // then reported on the contents rather than on the count.
    const item first = b->obj[0].load();
    const std::size_t n = b->nobj.load();
    check(n >= 1 && n <= 2, "try_get_full returned a buffer with a bad count");
    for (std::size_t i = 0; i < n; ++i) {
      const item x = i == 0 ? first : b->obj[i].load();
      check(x < max_items && produced[x], "consumed an item nobody produced");
      check(consumed[x]++ == 0, "item consumed twice");
    }
    b->nobj.store(0);
    pool->put_empty(b);
  }

  void thread(unsigned t) {
    for (unsigned r = 0; r < Rounds; ++r) {
      produce(t, r);
      if (buffer* b = pool->try_get_full()) consume(b);
    }
  }

  void after() {
    while (buffer* b = pool->try_get_full()) consume(b);
    for (unsigned x = 0; x < max_items; ++x)
      check(consumed[x] == (produced[x] ? 1 : 0), "item not consumed exactly once");
    check(pool->buffers() == pool->chunks() * PerChunk, "carved-buffer count");
    pool->reset();    // every buffer home; keeps the chunks
    pool->release();  // frees the chunks inside the iteration
    check(pool->buffers() == 0 && pool->chunks() == 0, "release left chunks");
    pool.destroy();
  }
};

// Producer / consumer: thread 0 fills Buffers buffers and publishes them;
// the other threads take full buffers, read them and return them empty. The
// relaxed_publish mutant's race shows up on the contents (the first slot).
template <unsigned Threads, unsigned PerChunk, unsigned Buffers,
          rl::test_result_e Expected = rl::test_result_success>
struct handoff_suite
    : rl::test_suite<handoff_suite<Threads, PerChunk, Buffers, Expected>, Threads, Expected> {
  static constexpr unsigned max_items = Buffers * 2;
  boxed<pool_t> pool;
  int consumed[max_items] = {};

  void before() { pool.make(PerChunk); }

  void consume(buffer* b) {
    const item first = b->obj[0].load();  // contents before count: see above
    const std::size_t n = b->nobj.load();
    check(n >= 1 && n <= 2, "try_get_full returned a buffer with a bad count");
    for (std::size_t i = 0; i < n; ++i) {
      const item x = i == 0 ? first : b->obj[i].load();
      check(x < max_items, "consumed an item nobody produced");
      check(consumed[x]++ == 0, "item consumed twice");
    }
    b->nobj.store(0);
    pool->put_empty(b);
  }

  void thread(unsigned t) {
    if (t == 0) {
      for (unsigned k = 0; k < Buffers; ++k) {
        buffer* b = pool->get_empty();
        const unsigned n = 2 - k % 2;
        for (unsigned i = 0; i < n; ++i) b->obj[i].store(k * 2 + i);
        b->nobj.store(n);
        pool->put_full(b);
      }
    } else {
      for (unsigned k = 0; k < Buffers; ++k)
        if (buffer* b = pool->try_get_full()) consume(b);
    }
  }

  void after() {
    while (buffer* b = pool->try_get_full()) consume(b);
    for (unsigned k = 0; k < Buffers; ++k) {
      const unsigned n = 2 - k % 2;
      for (unsigned i = 0; i < 2; ++i)
        check(consumed[k * 2 + i] == (i < n ? 1 : 0), "item not consumed exactly once");
    }
    pool->release();
    pool.destroy();
  }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  h.bound_and_random<pool_suite<2, 1, 2>>("pool.mixed.2t.chunk1.2rounds", 3, 100000);
  h.bound_and_random<pool_suite<2, 2, 2>>("pool.mixed.2t.chunk2.2rounds", 3, 100000);
  h.bound_and_random<pool_suite<3, 1, 1>>("pool.mixed.3t.chunk1.1round", 2, 100000);
  h.bound<pool_suite<3, 2, 1>>("pool.mixed.3t.chunk2.1round", 2);
  h.random<pool_suite<3, 2, 2>>("pool.mixed.3t.chunk2.2rounds", 200000);
  h.full<handoff_suite<2, 2, 1>>("pool.handoff.2t.chunk2.1buf");
  h.bound_and_random<handoff_suite<2, 1, 2>>("pool.handoff.2t.chunk1.2bufs", 5, 100000);
  h.bound<handoff_suite<2, 2, 3>>("pool.handoff.2t.chunk2.3bufs", 3);
  h.bound_and_random<handoff_suite<3, 2, 3>>("pool.handoff.3t.chunk2.3bufs", 2, 100000);

  // Known-bad variant: relaxed push CAS. Caught on the contents in the
  // hand-off, and anywhere (count or contents) in the mixed scenario.
  h.full<handoff_suite<2, 1, 2, rl::test_result_data_race>>(
      "pool.mutant.relaxed_publish.handoff.2t", mutant::relaxed_publish);
  h.bound<pool_suite<2, 2, 2, rl::test_result_data_race>>("pool.mutant.relaxed_publish.mixed.2t", 2,
                                                          mutant::relaxed_publish);
  h.random<pool_suite<3, 1, 2, rl::test_result_data_race>>("pool.mutant.relaxed_publish.mixed.3t",
                                                           100000, mutant::relaxed_publish);
  return h.finish();
}
