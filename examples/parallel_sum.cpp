// examples/parallel_sum.cpp — a few threads share a task tree through
// workq::buffer_pool + worker_cache + job_counter, and sum 1..N.
//
//   parallel_sum [threads=4] [n=50000000] [segments=64]
//
// The range [0, n) is cut into `segments` root jobs handed out by a
// job_counter. A worker claims a root job, pushes its range as a task into its
// worker_cache, and splits tasks in halves until they are small enough to sum
// directly. Splits overflow into the shared pool and balance() hands work to
// idle workers. Tasks are packed into a 64-bit word: (lo << 32) | hi.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "workq/cache.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"

namespace {

using task = std::uint64_t;
constexpr std::uint64_t grain = 4096;

task make_task(std::uint64_t lo, std::uint64_t hi) { return (lo << 32) | hi; }
std::uint64_t lo_of(task t) { return t >> 32; }
std::uint64_t hi_of(task t) { return t & 0xffff'ffffu; }

std::uint64_t arg(int argc, char** argv, int i, std::uint64_t def) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : def;
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned nthreads = static_cast<unsigned>(arg(argc, argv, 1, 4));
  const std::uint64_t n = arg(argc, argv, 2, 50'000'000);
  const std::uint64_t segments = arg(argc, argv, 3, 64);
  if (nthreads == 0 || n == 0 || segments == 0 || n >= (std::uint64_t{1} << 32)) {
    std::fprintf(stderr, "usage: parallel_sum [threads>0] [0<n<2^32] [segments>0]\n");
    return 2;
  }

  workq::buffer_pool<task> pool;  // Go's geometry: 2 KiB buffers, 253 tasks each
  workq::job_counter roots(segments);
  std::atomic<std::uint64_t> covered{0};  // elements summed so far: termination
  std::atomic<std::uint64_t> total{0};
  std::vector<std::uint64_t> leaves(nthreads), elems(nthreads);

  auto worker = [&](unsigned id) {
    workq::worker_cache<task> cache(pool);
    std::uint64_t sum = 0, nleaves = 0, nelems = 0, pending = 0;
    while (covered.load(std::memory_order_acquire) < n) {
      task t;
      if (!cache.try_get(t)) {
        // No local or pooled work: seed from the next root job, or wait.
        if (auto r = roots.claim_batch(1); !r.empty()) {
          const std::uint64_t lo = r.begin * n / segments, hi = (r.begin + 1) * n / segments;
          if (lo < hi) cache.put(make_task(lo, hi));
          roots.finish(r.size());
          if (lo == hi) continue;
        } else {
          std::this_thread::yield();
        }
        continue;
      }
      const std::uint64_t lo = lo_of(t), hi = hi_of(t);
      if (hi - lo > grain) {  // split: keep one half hot, publish as buffers fill
        const std::uint64_t mid = lo + (hi - lo) / 2;
        cache.put(make_task(mid, hi));
        cache.put(make_task(lo, mid));
        if (++pending % 8 == 0) cache.balance();
        continue;
      }
      for (std::uint64_t i = lo; i < hi; ++i) sum += i + 1;
      ++nleaves;
      nelems += hi - lo;
      covered.fetch_add(hi - lo, std::memory_order_release);
    }
    total.fetch_add(sum, std::memory_order_relaxed);
    leaves[id] = nleaves;
    elems[id] = nelems;
  };

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (unsigned i = 0; i < nthreads; ++i) ts.emplace_back(worker, i);
  for (auto& th : ts) th.join();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  roots.check_all_done();                        // every root job claimed and finished
  const std::uint64_t expect = n * (n + 1) / 2;  // n < 2^32: no overflow
  const bool ok = total.load() == expect;
  std::printf("parallel_sum: %u threads, n=%llu, %llu root jobs, %.1f ms\n", nthreads,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(segments), ms);
  for (unsigned i = 0; i < nthreads; ++i)
    std::printf("  worker %u: %llu leaf tasks, %llu elements\n", i,
                static_cast<unsigned long long>(leaves[i]),
                static_cast<unsigned long long>(elems[i]));
  std::printf("  pool: %zu chunks, %zu buffers of %zu tasks\n", pool.chunks(), pool.buffers(),
              decltype(pool)::capacity);
  std::printf("  sum = %llu (expected %llu): %s\n", static_cast<unsigned long long>(total.load()),
              static_cast<unsigned long long>(expect), ok ? "OK" : "MISMATCH");
  pool.reset();  // every buffer home and empty
  return ok ? 0 : 1;
}
