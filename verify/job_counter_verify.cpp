// verify/job_counter_verify.cpp — Relacy suites for workq::job_counter.
//
// Properties
//   * every job index in [0, n) is claimed exactly once, with try_claim and
//     claim_batch mixed across threads (duplicate claim -> USER ASSERT FAILED);
//   * has_unclaimed() == false is final: no claim after it succeeds;
//   * finish (release) / finished (acquire): a thread that sees every job
//     finished reads every job's effect without a data race (the effects are
//     sync::var, so Relacy race-checks them);
//   * check_all_done() passes at the quiescent end.
// Mutant claim_load_store (claim by load + store) must be caught as a
// duplicate claim.
#include <cstdint>
#include <optional>

#include "harness.hpp"
#include "workq/job_counter.hpp"

namespace {

using workq::job_counter;
using workq_verify::boxed;
using workq_verify::check;
using workq_verify::mutant;

// Hint: also check has_unclaimed() == false is final (two more relaxed loads
// per claim; they multiply the exhaustive search ~100x).
template <unsigned Threads, unsigned Jobs, unsigned Batch, bool Hint = true,
          rl::test_result_e Expected = rl::test_result_success>
struct claim_suite
    : rl::test_suite<claim_suite<Threads, Jobs, Batch, Hint, Expected>, Threads, Expected> {
  boxed<job_counter> jc;
  int claims[Jobs] = {};                         // test bookkeeping (not under test)
  workq::sync::var<std::uint64_t> effect[Jobs];  // a job's output, race-checked

  void before() { jc.make(Jobs); }

  void run_job(job_counter::index j) {
    check(j < Jobs, "claimed index out of range");
    check(claims[j]++ == 0, "job claimed twice");
    effect[j].store(j + 1);
  }

  void thread(unsigned t) {
    for (unsigned step = 0;; ++step) {
      const bool hint = Hint ? jc->has_unclaimed() : true;
      // Thread 0 starts with try_claim, the others with a batch; then alternate.
      const bool batch = ((t + step) % 2) == 1;
      bool got = false;
      if (!batch) {
        if (const std::optional<job_counter::index> j = jc->try_claim()) {
          got = true;
          run_job(*j);
          jc->finish(1);
        }
      } else {
        const job_counter::range r = jc->claim_batch(Batch);
        if (!r.empty()) {
          got = true;
          check(r.end <= Jobs && r.size() <= Batch, "bad batch range");
          for (job_counter::index j = r.begin; j < r.end; ++j) run_job(j);
          jc->finish(r.size());
        }
      }
      if (!hint) check(!got, "has_unclaimed() said false, then a claim succeeded");
      if (!got) break;
    }
    (void)t;
    // A thread that sees every job finished (acquire, pairs with finish's
    // release) must see every job's effect. No spin: a spin-wait multiplies
    // the exhaustive search; whichever thread finishes last takes this branch.
    if (jc->finished() == Jobs)
      for (unsigned j = 0; j < Jobs; ++j) check(effect[j].load() == j + 1, "job effect lost");
  }

  void after() {
    for (unsigned j = 0; j < Jobs; ++j) check(claims[j] == 1, "job not claimed exactly once");
    jc->check_all_done();
    check(!jc->has_unclaimed(), "has_unclaimed() after exhaustion");
    jc.destroy();
  }
};

// Without the waiter's spin: pure claiming, for the mutant (keeps the search
// small and the failure a plain duplicate claim).
template <unsigned Threads, unsigned Jobs, rl::test_result_e Expected>
struct claim_only_suite
    : rl::test_suite<claim_only_suite<Threads, Jobs, Expected>, Threads, Expected> {
  boxed<job_counter> jc;
  int claims[Jobs] = {};

  void before() { jc.make(Jobs); }
  void thread(unsigned) {
    while (const std::optional<job_counter::index> j = jc->try_claim()) {
      check(*j < Jobs, "claimed index out of range");
      check(claims[*j]++ == 0, "job claimed twice");
      jc->finish(1);
    }
  }
  void after() {
    for (unsigned j = 0; j < Jobs; ++j) check(claims[j] == 1, "job not claimed exactly once");
    jc->check_all_done();
    jc.destroy();
  }
};

}  // namespace

int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  // Exhaustive: mixed try_claim / claim_batch, exactly-once, finish/finished.
  h.full<claim_suite<2, 4, 2, false>>("job_counter.claim.2t.4jobs");
  h.full<claim_suite<2, 3, 5, false>>("job_counter.claim.2t.3jobs.batch5");
  h.bound_and_random<claim_suite<3, 5, 2, false>>("job_counter.claim.3t.5jobs", 3, 100000);
  // With the has_unclaimed() hint check: bounded + random.
  h.bound_and_random<claim_suite<2, 4, 2>>("job_counter.claim+hint.2t.4jobs", 4, 100000);
  h.bound_and_random<claim_suite<3, 5, 2>>("job_counter.claim+hint.3t.5jobs", 2, 100000);

  // Known-bad variant: claim by load + store.
  h.full<claim_only_suite<2, 3, rl::test_result_user_assert_failed>>(
      "job_counter.mutant.claim_load_store.2t", mutant::claim_load_store);
  h.full<claim_suite<2, 4, 2, false, rl::test_result_user_assert_failed>>(
      "job_counter.mutant.claim_load_store.mixed.2t", mutant::claim_load_store);
  h.random<claim_only_suite<3, 4, rl::test_result_user_assert_failed>>(
      "job_counter.mutant.claim_load_store.3t", 100000, mutant::claim_load_store);
  return h.finish();
}
