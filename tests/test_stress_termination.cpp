// Stress: termination_detector across threads — parking and wake-ups.
//
// backoff_policy{0, 0} makes a waiter park on its first back-off round, so
// these tests exercise the futex path deterministically: a parked waiter
// stays parked until notify_work() (after a publication) or the completion
// of termination wakes it, and then returns what it should.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

namespace {

using namespace std::chrono_literals;
using item = std::uint64_t;
using pool_t = workq::buffer_pool<item, 4>;
using detector = workq::termination_detector<pool_t>;
using kind = detector::result::kind;

constexpr workq::backoff_policy park_at_once{0, 0};

/// Polls `pred` every millisecond for up to `limit`; true when it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(terminationStress, NotifyWorkWakesAParkedWaiter) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2, park_at_once);
  std::atomic<bool> returned{false};
  detector::result got{kind::done, nullptr};
  std::thread waiter([&] {
    got = d.get_full();
    returned.store(true);
  });
  // The main thread is the other participant: running, about to publish.
  ASSERT_TRUE(eventually([&] { return d.parks() > 0; })) << "waiter never parked";
  EXPECT_EQ(d.waiting(), 1u);
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(returned.load()) << "a parked waiter returned with nothing published";

  pool_t::buffer* b = p.get_empty();
  b->obj[0].store(99);
  b->nobj.store(1);
  p.put_full(b);
  d.notify_work();  // parked waiters do not watch the stack: wake them
  ASSERT_TRUE(eventually([&] { return returned.load(); })) << "notify_work did not wake the waiter";
  waiter.join();
  EXPECT_EQ(got.what, kind::work);
  ASSERT_EQ(got.buf, b);
  EXPECT_EQ(got.buf->obj[0].load(), 99u);
  EXPECT_EQ(d.waiting(), 0u);
  EXPECT_GE(d.parks(), 1u);
  EXPECT_GE(d.wakeups(), 1u);
  got.buf->nobj.store(0);
  p.put_empty(got.buf);
  p.reset();
}

TEST(terminationStress, PublicationWithoutNotifyLeavesTheWaiterParked) {
  // Documents the contract: a producer must call notify_work(); a bare push
  // does not wake a waiter that has already parked.
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2, park_at_once);
  std::atomic<bool> returned{false};
  detector::result got{kind::done, nullptr};
  std::thread waiter([&] {
    got = d.get_full();
    returned.store(true);
  });
  ASSERT_TRUE(eventually([&] { return d.parks() > 0; }));
  std::this_thread::sleep_for(5ms);  // let it reach the futex
  pool_t::buffer* b = p.get_empty();
  b->obj[0].store(5);
  b->nobj.store(1);
  p.put_full(b);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(returned.load());
  d.notify_work();
  ASSERT_TRUE(eventually([&] { return returned.load(); }));
  waiter.join();
  EXPECT_EQ(got.what, kind::work);
  EXPECT_EQ(got.buf, b);
  got.buf->nobj.store(0);
  p.put_empty(got.buf);
  p.reset();
}

TEST(terminationStress, NotifyWithoutSleepersIsCheap) {
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, 2, park_at_once);
  for (int i = 0; i < 1000; ++i) d.notify_work();
  EXPECT_EQ(d.wakeups(), 0u);  // nobody parked: no broadcast
}

TEST(terminationStress, CompletingTerminationWakesEveryParkedWaiter) {
  constexpr int waiters = 3;
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, waiters + 1, park_at_once);
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < waiters; ++i)
    ts.emplace_back([&] {
      if (d.get_full().done()) done.fetch_add(1);
    });
  ASSERT_TRUE(eventually([&] { return d.waiting() == waiters && d.parks() >= waiters; }));
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(done.load(), 0);
  EXPECT_TRUE(d.pause());  // the last participant stops: termination
  for (auto& t : ts) t.join();
  EXPECT_EQ(done.load(), waiters);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.waiting(), static_cast<std::uint32_t>(waiters + 1));
}

TEST(terminationStress, ParkedWaitersWakeForWorkThenTerminate) {
  // Two waiters park; the producer publishes one buffer at a time with
  // notify_work(); each buffer is taken exactly once; then the producer
  // pauses and everyone returns done.
  constexpr int waiters = 2;
  constexpr int buffers = 50;
  pool_t p(4);
  workq::job_counter roots;
  detector d(p, roots, waiters + 1, park_at_once);
  std::atomic<int> taken{0};
  std::vector<std::atomic<int>> seen(buffers);
  std::vector<std::thread> ts;
  for (int i = 0; i < waiters; ++i)
    ts.emplace_back([&] {
      for (;;) {
        auto r = d.get_full();
        if (r.done()) return;
        ASSERT_EQ(r.what, kind::work);
        seen[r.buf->obj[0].load()].fetch_add(1);
        taken.fetch_add(1);
        r.buf->nobj.store(0);
        p.put_empty(r.buf);
      }
    });
  for (int i = 0; i < buffers; ++i) {
    if (i % 10 == 0) eventually([&] { return d.waiting() == waiters; });
    pool_t::buffer* b = p.get_empty();
    b->obj[0].store(static_cast<item>(i));
    b->nobj.store(1);
    p.put_full(b);
    d.notify_work();
  }
  ASSERT_TRUE(eventually([&] { return taken.load() == buffers; }));
  EXPECT_FALSE(d.done());
  (void)d.pause();  // true unless a waiter was between withdraw and re-arrive
  for (auto& t : ts) t.join();
  EXPECT_TRUE(d.done());
  for (int i = 0; i < buffers; ++i) EXPECT_EQ(seen[i].load(), 1) << "buffer " << i;
  EXPECT_GE(d.parks(), 1u);
  p.reset();
}

}  // namespace
