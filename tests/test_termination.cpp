// Unit tests: workq::termination_detector on its own (single thread).
//
// One thread plays every participant: "other participants" are modelled by
// pause() (a running participant that stops) so the snapshot logic can be
// driven deterministically. The loud checks (depart without arrive, more
// arrivals than nproc, nproc 0) are death tests.
#include <gtest/gtest.h>

#include <cstdint>

#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

namespace {

using item = std::uint64_t;
using pool_t = workq::buffer_pool<item, 4>;
using detector = workq::termination_detector<pool_t>;
using kind = detector::result::kind;

/// Publishes a full buffer holding `x` to the pool.
pool_t::buffer* publish(pool_t& p, item x) {
  pool_t::buffer* b = p.get_empty();
  b->obj[0].store(x);
  b->nobj.store(1);
  p.put_full(b);
  return b;
}

/// Hands a buffer obtained from the detector back to the pool, empty.
void give_back(pool_t& p, pool_t::buffer* b) {
  b->nobj.store(0);
  p.put_empty(b);
}

TEST(termination, FreshDetectorHasEveryoneRunning) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 3);
  EXPECT_EQ(d.nproc(), 3u);
  EXPECT_EQ(d.waiting(), 0u);
  EXPECT_FALSE(d.done());
  EXPECT_FALSE(d.work_available());
  EXPECT_EQ(d.waits(), 0u);
  EXPECT_EQ(d.parks(), 0u);
  EXPECT_EQ(d.wakeups(), 0u);
}

TEST(termination, GetFullReturnsAvailableWorkWithoutWaiting) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2);
  pool_t::buffer* b = publish(p, 42);
  EXPECT_TRUE(d.work_available());
  const auto r = d.get_full();
  EXPECT_EQ(r.what, kind::work);
  EXPECT_FALSE(r.done());
  ASSERT_EQ(r.buf, b);
  EXPECT_EQ(r.buf->obj[0].load(), 42u);
  EXPECT_EQ(d.waiting(), 0u);  // still running: it owns the buffer
  EXPECT_EQ(d.waits(), 0u);    // the fast path never arrives
  EXPECT_FALSE(d.work_available());
  give_back(p, r.buf);
  p.reset();
}

TEST(termination, GetFullReturnsDoneForTheOnlyParticipant) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 1);
  const auto r = d.get_full();
  EXPECT_EQ(r.what, kind::done);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.buf, nullptr);
  EXPECT_EQ(d.waiting(), 1u);  // stays counted as waiting until reset()
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.waits(), 1u);
  EXPECT_GE(d.wakeups(), 1u);  // whoever completes termination wakes everyone
  EXPECT_EQ(d.parks(), 0u);
  // A second get_full after done (still counted as waiting) would be a second
  // arrival; reset() starts the next cycle instead.
  d.reset(1);
  EXPECT_EQ(d.waiting(), 0u);
  EXPECT_FALSE(d.done());
  EXPECT_TRUE(d.get_full().done());
}

TEST(termination, GetFullReturnsDoneWhenTheOthersArePaused) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 3);
  EXPECT_FALSE(d.pause());  // participant 1 stops
  EXPECT_EQ(d.waiting(), 1u);
  EXPECT_FALSE(d.pause());  // participant 2 stops
  EXPECT_EQ(d.waiting(), 2u);
  EXPECT_FALSE(d.done());  // participant 3 still running
  EXPECT_TRUE(d.get_full().done());
  EXPECT_EQ(d.waiting(), 3u);
  EXPECT_TRUE(d.done());
}

TEST(termination, UnclaimedRootsComeBeforeDone) {
  // The 2015 change: a waiter that sees unclaimed root jobs withdraws and
  // gets `roots`, even when it is the last participant to arrive.
  pool_t p(4);
  workq::job_counter roots(2);
  detector d(p, roots, 1);
  EXPECT_TRUE(d.work_available());
  EXPECT_FALSE(d.done());
  auto r = d.get_full();
  EXPECT_EQ(r.what, kind::roots);
  EXPECT_EQ(r.buf, nullptr);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(d.waiting(), 0u);  // running again: go claim them
  EXPECT_FALSE(d.done());

  ASSERT_TRUE(roots.try_claim().has_value());  // one claimed, one left
  r = d.get_full();
  EXPECT_EQ(r.what, kind::roots);
  EXPECT_EQ(d.waiting(), 0u);
  ASSERT_TRUE(roots.try_claim().has_value());
  EXPECT_FALSE(roots.has_unclaimed());
  EXPECT_FALSE(d.work_available());

  // Claimed but not finished does not hold termination back: the claimer is
  // a running participant, and it is the one calling get_full here.
  r = d.get_full();
  EXPECT_EQ(r.what, kind::done);
  roots.finish(2);
  roots.check_all_done();
}

TEST(termination, PauseDoesNotCompleteTerminationWhileRootsRemain) {
  pool_t p(4);
  workq::job_counter roots(1);
  detector d(p, roots, 1);
  EXPECT_FALSE(d.pause());  // everyone waits, but a root job is unclaimed
  EXPECT_EQ(d.waiting(), 1u);
  EXPECT_FALSE(d.done());
  EXPECT_TRUE(d.work_available());
  d.resume();
  EXPECT_EQ(d.waiting(), 0u);
  ASSERT_TRUE(roots.try_claim().has_value());
  roots.finish();
  EXPECT_TRUE(d.pause());
  EXPECT_TRUE(d.done());
}

TEST(termination, WorkBeatsRoots) {
  pool_t p(4);
  workq::job_counter roots(3);
  detector d(p, roots, 1);
  pool_t::buffer* b = publish(p, 7);
  auto r = d.get_full();
  EXPECT_EQ(r.what, kind::work);
  EXPECT_EQ(r.buf, b);
  give_back(p, r.buf);
  r = d.get_full();
  EXPECT_EQ(r.what, kind::roots);
  p.reset();
}

TEST(termination, PauseAndResume) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2);
  EXPECT_FALSE(d.pause());
  EXPECT_EQ(d.waiting(), 1u);
  EXPECT_FALSE(d.done());
  d.resume();
  EXPECT_EQ(d.waiting(), 0u);
  EXPECT_FALSE(d.pause());  // participant A
  EXPECT_TRUE(d.pause());   // participant B completes termination
  EXPECT_EQ(d.waiting(), 2u);
  EXPECT_TRUE(d.done());
  EXPECT_GE(d.wakeups(), 1u);
}

TEST(termination, PauseWithWorkLeftIsNotDone) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 1);
  publish(p, 1);
  EXPECT_FALSE(d.pause());  // all waiting, but a full buffer is on the stack
  EXPECT_FALSE(d.done());
  EXPECT_TRUE(d.work_available());
  d.resume();
  auto r = d.get_full();
  ASSERT_EQ(r.what, kind::work);
  give_back(p, r.buf);
  EXPECT_TRUE(d.pause());
  p.reset();
}

TEST(termination, WorkAvailableTracksStackAndRoots) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 1);
  EXPECT_FALSE(d.work_available());
  publish(p, 1);
  EXPECT_TRUE(d.work_available());
  pool_t::buffer* b = p.try_get_full();
  EXPECT_FALSE(d.work_available());
  give_back(p, b);
  roots.reset(1);
  EXPECT_TRUE(d.work_available());
  ASSERT_TRUE(roots.try_claim().has_value());
  EXPECT_FALSE(d.work_available());
  p.reset();
}

TEST(termination, ResetStartsANewCycle) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2);
  EXPECT_FALSE(d.pause());
  EXPECT_TRUE(d.get_full().done());
  d.reset(3);
  EXPECT_EQ(d.nproc(), 3u);
  EXPECT_EQ(d.waiting(), 0u);
  EXPECT_FALSE(d.done());
  EXPECT_FALSE(d.pause());
  EXPECT_FALSE(d.pause());
  EXPECT_TRUE(d.pause());
}

TEST(termination, DoneSnapshotFailsWhileSomeoneRuns) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(d.pause());
    EXPECT_FALSE(d.done());
  }
  EXPECT_EQ(d.waiting(), 3u);
  EXPECT_TRUE(d.pause());
  EXPECT_TRUE(d.done());
}

// ------------------------------------------------------------- loud checks

TEST(terminationDeathTest, ResumeWithoutPauseIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p(4);
        workq::job_counter roots;
        detector d(p, roots, 2);
        d.resume();
      },
      "depart without arrive");
}

TEST(terminationDeathTest, MoreArrivalsThanNprocIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p(4);
        workq::job_counter roots;
        detector d(p, roots, 2);
        (void)d.pause();
        (void)d.pause();
        (void)d.pause();  // a third arrival with nproc 2
      },
      "nwait > nproc");
}

TEST(terminationDeathTest, GetFullAfterDoneIsAnExtraArrival) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p(4);
        workq::job_counter roots;
        detector d(p, roots, 1);
        (void)d.get_full();  // done; counted as waiting
        (void)d.get_full();
      },
      "nwait > nproc");
}

TEST(terminationDeathTest, NprocZeroIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p(4);
        workq::job_counter roots;
        detector d(p, roots, 0);
      },
      "nproc must be >= 1");
}

TEST(terminationDeathTest, ResetToZeroIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        pool_t p(4);
        workq::job_counter roots;
        detector d(p, roots, 1);
        d.reset(0);
      },
      "nproc must be >= 1");
}

}  // namespace
