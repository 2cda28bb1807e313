// bench/termination_bench.cpp — how fast termination is noticed, and what an
// idle waiter costs.
//
// BM_TerminationLatency/<workers>
//   A thread team drains a random task tree (tests/task_tree.hpp, ~20k nodes,
//   32 root jobs) in blocking mode, over and over. Per iteration we record the
//   moment the last node is scanned (the scan that brings the global count to
//   the total) and the moment each worker returns from drain(); the
//   termination latency is  max(return) - last scan. Counters (microseconds):
//   lat_mean_us, lat_p50_us, lat_p90_us, lat_max_us; parks_per_iter.
//
// BM_IdleWaiterCpu
//   One waiter blocks in get_full for ~200 ms while the other participant (the
//   benchmark thread) holds work; then it publishes a buffer and wakes it. The
//   waiter measures its own CPU time (CLOCK_THREAD_CPUTIME_ID) and wall time
//   across the wait. Same run, same condition, a Go-2015-style baseline waiter
//   (runtime.getfull before parking existed: procyield(20) for 10 rounds,
//   osyield for 10, then usleep(100) per round, polling work.full and nwait).
//   Counters: workq_cpu_per_wall, usleep100_cpu_per_wall (CPU-seconds per
//   wall-second of waiting), workq_wake_us / usleep100_wake_us (publish ->
//   waiter returns), workq_parks.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "task_tree.hpp"
#include "workq/drain.hpp"

namespace {

using clk = std::chrono::steady_clock;
using item = std::uint64_t;
using pool_t = workq::buffer_pool<item>;
using cache_t = workq::worker_cache<item>;
using detector = workq::termination_detector<pool_t>;
using workq_test::task_tree;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::int64_t ns_of(clk::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// ------------------------------------------------------ termination latency

/// A sleeping barrier (mutex + condition variable): whoever waits at it is
/// off the CPU, so the benchmark thread does not compete with the workers.
/// (libstdc++ 12's std::barrier spins and yields for a long while first.)
class sleeping_barrier {
 public:
  explicit sleeping_barrier(std::uint32_t n) : n_(n) {}
  void arrive_and_wait() {
    std::unique_lock lk(mu_);
    const std::uint64_t gen = gen_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      ++gen_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lk, [&] { return gen_ != gen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint32_t n_, arrived_ = 0;
  std::uint64_t gen_ = 0;
};

void BM_TerminationLatency(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  static const task_tree tree = task_tree::random(32, 20000, 4, 2015);
  const std::uint64_t total = tree.size();

  pool_t pool;
  workq::job_counter roots;
  detector det(pool, roots, n);
  std::atomic<std::uint64_t> scanned{0};
  std::atomic<std::int64_t> t_last{0};  // ns since epoch of clk
  std::vector<std::atomic<std::int64_t>> t_ret(n);
  std::atomic<bool> quit{false};
  sleeping_barrier start(n + 1), finish(n + 1);

  const auto now_ns = [] { return ns_of(clk::now()); };
  auto scan_root = [&](workq::job_counter::index j, cache_t& c) -> std::uint64_t {
    c.put(j);
    return 1;
  };
  auto scan = [&](item x, cache_t& c) -> std::uint64_t {
    for (item ch = tree.child_begin(x); ch < tree.child_end(x); ++ch) c.put(ch);
    for (int k = 0; k < 8; ++k) workq::sync::spin_pause();  // a little scan work
    if (scanned.fetch_add(1, std::memory_order_relaxed) + 1 == total)
      t_last.store(now_ns(), std::memory_order_relaxed);
    return tree.units(x);
  };

  std::vector<std::thread> team;
  for (std::uint32_t i = 0; i < n; ++i)
    team.emplace_back([&, i] {
      cache_t cache(pool);
      for (;;) {
        start.arrive_and_wait();
        if (quit.load()) return;
        (void)workq::drain(cache, roots, &det, scan_root, scan);
        t_ret[i].store(now_ns(), std::memory_order_relaxed);
        finish.arrive_and_wait();
      }
    });

  std::vector<double> lat_us;
  const std::uint64_t parks0 = det.parks();
  for (auto _ : state) {
    // Quiescent point: everyone is at `start`.
    pool.reset();
    roots.reset(tree.roots());
    det.reset(n);
    scanned.store(0);
    start.arrive_and_wait();
    finish.arrive_and_wait();
    std::int64_t last_ret = 0;
    for (auto& t : t_ret) last_ret = std::max(last_ret, t.load());
    lat_us.push_back(static_cast<double>(last_ret - t_last.load()) * 1e-3);
    if (scanned.load() != total) state.SkipWithError("not every node was scanned");
  }
  quit.store(true);
  start.arrive_and_wait();
  for (auto& t : team) t.join();

  double sum = 0;
  for (double v : lat_us) sum += v;
  state.counters["lat_mean_us"] = lat_us.empty() ? 0 : sum / static_cast<double>(lat_us.size());
  state.counters["lat_p50_us"] = percentile(lat_us, 0.5);
  state.counters["lat_p90_us"] = percentile(lat_us, 0.9);
  state.counters["lat_max_us"] = percentile(lat_us, 1.0);
  state.counters["parks_per_iter"] = static_cast<double>(det.parks() - parks0) /
                                     static_cast<double>(std::max<std::size_t>(1, lat_us.size()));
  state.counters["workers"] = n;
}
BENCHMARK(BM_TerminationLatency)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Iterations(100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ------------------------------------------------------------ idle waiters

struct wait_sample {
  double cpu = 0, wall = 0, wake_us = 0;
};

constexpr auto idle_hold = std::chrono::milliseconds(200);

/// workq: the waiter blocks in termination_detector::get_full (spin, yield,
/// park on a futex); the producer publishes and calls notify_work().
wait_sample workq_waiter(std::uint64_t& parks) {
  pool_t pool;
  workq::job_counter roots;
  detector det(pool, roots, 2);
  wait_sample s;
  std::atomic<std::int64_t> t_pub{0}, t_back{0};
  std::thread waiter([&] {
    const double c0 = thread_cpu_seconds();
    const auto w0 = clk::now();
    const auto r = det.get_full();
    const auto w1 = clk::now();
    s.cpu = thread_cpu_seconds() - c0;
    s.wall = std::chrono::duration<double>(w1 - w0).count();
    t_back.store(ns_of(w1));
    if (r.buf != nullptr) {
      r.buf->nobj.store(0);
      pool.put_empty(r.buf);
    }
  });
  std::this_thread::sleep_for(idle_hold);  // we are running and hold work
  pool_t::buffer* b = pool.get_empty();
  b->obj[0].store(1);
  b->nobj.store(1);
  t_pub.store(ns_of(clk::now()));
  pool.put_full(b);
  det.notify_work();
  waiter.join();
  s.wake_us = static_cast<double>(t_back.load() - t_pub.load()) * 1e-3;
  parks = det.parks();
  return s;
}

/// Go 2015 (runtime/mgcwork.go getfull, before parking): poll work.full and
/// nwait; procyield(20) for 10 rounds, osyield for 10, then usleep(100).
wait_sample usleep100_waiter() {
  pool_t pool;
  std::atomic<std::uint32_t> nwait{0};
  const std::uint32_t nproc = 2;
  wait_sample s;
  std::atomic<std::int64_t> t_pub{0}, t_back{0};
  std::thread waiter([&] {
    const double c0 = thread_cpu_seconds();
    const auto w0 = clk::now();
    pool_t::buffer* got = nullptr;
    nwait.fetch_add(1);
    for (int i = 0;; ++i) {
      if (pool.has_full()) {
        nwait.fetch_sub(1);
        got = pool.try_get_full();
        if (got != nullptr) break;
        nwait.fetch_add(1);
      }
      if (nwait.load() == nproc) break;  // (no root jobs in this setting)
      if (i < 10) {
        for (int k = 0; k < 20; ++k) workq::sync::spin_pause();  // procyield(20)
      } else if (i < 20) {
        std::this_thread::yield();  // osyield
      } else {
        usleep(100);
      }
    }
    const auto w1 = clk::now();
    s.cpu = thread_cpu_seconds() - c0;
    s.wall = std::chrono::duration<double>(w1 - w0).count();
    t_back.store(ns_of(w1));
    if (got != nullptr) {
      got->nobj.store(0);
      pool.put_empty(got);
    }
  });
  std::this_thread::sleep_for(idle_hold);
  pool_t::buffer* b = pool.get_empty();
  b->obj[0].store(1);
  b->nobj.store(1);
  t_pub.store(ns_of(clk::now()));
  pool.put_full(b);
  waiter.join();
  s.wake_us = static_cast<double>(t_back.load() - t_pub.load()) * 1e-3;
  return s;
}

void BM_IdleWaiterCpu(benchmark::State& state) {
  double wq_cpu = 0, wq_wall = 0, wq_wake = 0, go_cpu = 0, go_wall = 0, go_wake = 0;
  std::uint64_t parks = 0, iters = 0;
  for (auto _ : state) {
    std::uint64_t p = 0;
    const wait_sample a = workq_waiter(p);
    const wait_sample g = usleep100_waiter();
    wq_cpu += a.cpu;
    wq_wall += a.wall;
    wq_wake += a.wake_us;
    go_cpu += g.cpu;
    go_wall += g.wall;
    go_wake += g.wake_us;
    parks += p;
    ++iters;
  }
  const double it = static_cast<double>(iters);
  state.counters["workq_cpu_per_wall"] = wq_cpu / wq_wall;
  state.counters["usleep100_cpu_per_wall"] = go_cpu / go_wall;
  state.counters["workq_cpu_ms"] = wq_cpu * 1e3 / it;
  state.counters["usleep100_cpu_ms"] = go_cpu * 1e3 / it;
  state.counters["workq_wake_us"] = wq_wake / it;
  state.counters["usleep100_wake_us"] = go_wake / it;
  state.counters["workq_parks"] = static_cast<double>(parks) / it;
}
BENCHMARK(BM_IdleWaiterCpu)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
