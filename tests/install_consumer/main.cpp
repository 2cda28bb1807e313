// Uses an installed workq: job_counter hands out root jobs, worker_caches over
// a buffer_pool carry the items between two threads. Exit 0 when every item
// was consumed exactly once.
#include <workq/cache.hpp>
#include <workq/job_counter.hpp>
#include <workq/pool.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

int main() {
  constexpr std::uint64_t jobs = 1000, per_job = 10, total = jobs * per_job;
  workq::buffer_pool<std::uint64_t> pool;
  workq::job_counter roots(jobs);
  std::vector<std::atomic<int>> seen(total);
  std::atomic<std::uint64_t> consumed{0};

  auto worker = [&] {
    workq::worker_cache<std::uint64_t> cache(pool);
    while (consumed.load() < total) {
      if (auto j = roots.try_claim()) {
        for (std::uint64_t i = 0; i < per_job; ++i) cache.put(*j * per_job + i);
        roots.finish();
        cache.balance();
      }
      std::uint64_t x;
      while (cache.try_get(x)) {
        seen[x].fetch_add(1);
        consumed.fetch_add(1);
      }
      std::this_thread::yield();
    }
    cache.dispose();
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  roots.check_all_done();
  pool.reset();
  for (auto& s : seen)
    if (s.load() != 1) {
      std::puts("workq_consumer: FAILED");
      return 1;
    }
  std::printf("workq_consumer: %llu items consumed exactly once: OK\n",
              static_cast<unsigned long long>(total));
  return 0;
}
