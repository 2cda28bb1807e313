// Stress: job_counter claims from many threads, exact conservation.
//
// Every round publishes n jobs; threads claim them with a mix of try_claim
// and claim_batch(k) (k = 0..7), mark each claimed index, and finish() what
// they claimed. At the end of each round every index was claimed exactly
// once, the claimed indices sum to n(n-1)/2, and check_all_done() passes.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "workq/job_counter.hpp"

namespace {

using workq::job_counter;
using workq_test::scaled;

class JobCounterStress : public ::testing::TestWithParam<int> {};

TEST_P(JobCounterStress, MixedClaimsExactlyOnce) {
  const int nthreads = GetParam();
  const std::size_t rounds = scaled(200);
  const std::uint64_t n = 20000 + 7;  // not a multiple of any batch size
  job_counter jc;
  std::vector<std::unique_ptr<workq_test::exactly_once>> seen;
  for (std::size_t r = 0; r < rounds; ++r)
    seen.push_back(std::make_unique<workq_test::exactly_once>(n));
  std::atomic<std::uint64_t> sum{0};
  std::size_t round = 0;
  // The completion step runs on one thread while the others wait: the
  // quiescent point where reset() and check_all_done() are allowed. Even
  // phases open a round, odd phases close it.
  std::barrier sync(nthreads, [&]() noexcept {
    if (round % 2 == 0) {
      jc.reset(n);
    } else {
      jc.check_all_done();  // aborts the test binary on failure
      EXPECT_EQ(jc.claimed(), n);
      EXPECT_EQ(jc.finished(), n);
    }
    ++round;
  });

  auto worker = [&](int t) {
    std::uint64_t rng = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(t + 1);
    for (std::size_t r = 0; r < rounds; ++r) {
      sync.arrive_and_wait();  // round r begins: jc holds n fresh jobs
      auto& s = *seen[r];
      std::uint64_t local = 0;
      for (;;) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        const unsigned pick = static_cast<unsigned>(rng % 8);
        if (pick == 7) {
          const auto j = jc.try_claim();
          if (!j) break;
          s.mark(*j);
          local += *j;
          jc.finish();
        } else {
          const auto rg = jc.claim_batch(pick);  // pick == 0 claims one
          if (rg.empty()) break;
          EXPECT_LE(rg.size(), pick == 0 ? 1u : pick);
          for (auto i = rg.begin; i < rg.end; ++i) {
            s.mark(i);
            local += i;
          }
          jc.finish(rg.size());
        }
      }
      EXPECT_FALSE(jc.has_unclaimed());  // "false" is final for the cycle
      sum.fetch_add(local, std::memory_order_relaxed);
      sync.arrive_and_wait();  // round r ends: quiescent
    }
  };
  workq_test::run_threads(nthreads, worker);
  for (auto& s : seen) s->expect_all_once();
  EXPECT_EQ(sum.load(), rounds * workq_test::sum_below(n));
  EXPECT_EQ(round, 2 * rounds);
}

INSTANTIATE_TEST_SUITE_P(Threads, JobCounterStress, ::testing::Values(1, 2, 4, 8),
                         workq_test::threads_name);

}  // namespace
