// Unit tests: workq::job_counter (single thread; every operation and error path).
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "workq/job_counter.hpp"

namespace {

using workq::job_counter;

TEST(JobCounter, DefaultHasNoJobs) {
  job_counter c;
  EXPECT_EQ(c.jobs(), 0u);
  EXPECT_EQ(c.claimed(), 0u);
  EXPECT_EQ(c.finished(), 0u);
  EXPECT_FALSE(c.has_unclaimed());
  EXPECT_EQ(c.try_claim(), std::nullopt);
  EXPECT_TRUE(c.claim_batch(4).empty());
  c.check_all_done();  // zero jobs: trivially done
}

TEST(JobCounter, TryClaimExactlyNThenNullopt) {
  job_counter c(5);
  EXPECT_EQ(c.jobs(), 5u);
  for (job_counter::index i = 0; i < 5; ++i) {
    EXPECT_TRUE(c.has_unclaimed());
    const auto j = c.try_claim();
    ASSERT_TRUE(j.has_value());
    EXPECT_EQ(*j, i);
    EXPECT_EQ(c.claimed(), i + 1);
  }
  EXPECT_FALSE(c.has_unclaimed());
  for (int k = 0; k < 3; ++k) EXPECT_EQ(c.try_claim(), std::nullopt);  // overshoot is harmless
  EXPECT_EQ(c.claimed(), 5u);                                          // clamped to jobs()
  EXPECT_FALSE(c.has_unclaimed());
}

TEST(JobCounter, ClaimBatchRangesAndClamping) {
  job_counter c(10);
  auto r = c.claim_batch(4);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 4u);
  EXPECT_EQ(r.size(), 4u);
  EXPECT_FALSE(r.empty());
  r = c.claim_batch(4);
  EXPECT_EQ(r.begin, 4u);
  EXPECT_EQ(r.end, 8u);
  r = c.claim_batch(4);  // only 2 left: clamped
  EXPECT_EQ(r.begin, 8u);
  EXPECT_EQ(r.end, 10u);
  EXPECT_EQ(r.size(), 2u);
  EXPECT_FALSE(c.has_unclaimed());
  r = c.claim_batch(4);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(c.claimed(), 10u);
}

TEST(JobCounter, ClaimBatchZeroMeansOne) {
  job_counter c(2);
  auto r = c.claim_batch(0);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 1u);
  r = c.claim_batch(0);
  EXPECT_EQ(r.begin, 1u);
  EXPECT_EQ(r.end, 2u);
  EXPECT_TRUE(c.claim_batch(0).empty());
}

TEST(JobCounter, ClaimBatchLargerThanJobs) {
  job_counter c(3);
  const auto r = c.claim_batch(100);
  EXPECT_EQ(r.begin, 0u);
  EXPECT_EQ(r.end, 3u);
  EXPECT_EQ(c.try_claim(), std::nullopt);
}

TEST(JobCounter, MixedClaimsCoverEveryIndexOnce) {
  job_counter c(7);
  std::vector<int> seen(7, 0);
  if (auto j = c.try_claim()) ++seen[*j];
  for (auto r = c.claim_batch(3); !r.empty(); r = c.claim_batch(3))
    for (auto i = r.begin; i < r.end; ++i) ++seen[i];
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(JobCounter, RangeDefaultIsEmpty) {
  job_counter::range r;
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.size(), 0u);
}

TEST(JobCounter, FinishAndCheckAllDone) {
  job_counter c(4);
  ASSERT_TRUE(c.try_claim());
  c.finish();
  const auto r = c.claim_batch(3);
  EXPECT_EQ(r.size(), 3u);
  c.finish(r.size());
  EXPECT_EQ(c.finished(), 4u);
  c.check_all_done();  // must not die
}

TEST(JobCounter, ResetStartsANewCycle) {
  job_counter c(2);
  ASSERT_TRUE(c.try_claim());
  ASSERT_TRUE(c.try_claim());
  c.finish(2);
  c.check_all_done();
  c.reset(3);
  EXPECT_EQ(c.jobs(), 3u);
  EXPECT_EQ(c.claimed(), 0u);
  EXPECT_EQ(c.finished(), 0u);
  EXPECT_TRUE(c.has_unclaimed());
  EXPECT_EQ(c.try_claim(), 0u);
  c.reset(0);
  EXPECT_FALSE(c.has_unclaimed());
  EXPECT_EQ(c.try_claim(), std::nullopt);
  c.check_all_done();
}

// A k near 2^64 must not wrap `next_` (or `b + k`): claim_batch clamps k.
TEST(JobCounter, ClaimBatchHugeKNeverWraps) {
  job_counter c(10);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.try_claim());
  const auto r = c.claim_batch(~job_counter::index{0} - 2);
  EXPECT_EQ(r.begin, 5u);
  EXPECT_EQ(r.end, 10u);
  EXPECT_EQ(c.claimed(), 10u);
  EXPECT_EQ(c.try_claim(), std::nullopt);
}

using JobCounterDeathTest = ::testing::Test;

TEST_F(JobCounterDeathTest, LeftOverUnclaimedJobs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  job_counter c(3);
  ASSERT_TRUE(c.try_claim());
  c.finish();
  EXPECT_DEATH(c.check_all_done(), "left over jobs");
}

TEST_F(JobCounterDeathTest, NoJobClaimed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  job_counter c(1);
  EXPECT_DEATH(c.check_all_done(), "left over jobs");
}

TEST_F(JobCounterDeathTest, ClaimedButUnfinishedJobs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  job_counter c(3);
  const auto r = c.claim_batch(3);
  ASSERT_EQ(r.size(), 3u);
  c.finish(2);
  EXPECT_DEATH(c.check_all_done(), "claimed jobs not finished");
}

TEST_F(JobCounterDeathTest, FinishedMoreThanJobs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  job_counter c(1);
  ASSERT_TRUE(c.try_claim());
  c.finish(2);
  EXPECT_DEATH(c.check_all_done(), "not finished");
}

}  // namespace
