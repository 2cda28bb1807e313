// bench/queue_bench.cpp — push/pop contention on workq's stacks and peers.
//
// Every benchmark runs at 1, 2 and 4 threads; one iteration is one push and
// one pop on the shared structure by that thread (a "pair"), and
// items_per_second is pairs per wall-second summed over threads. Peers run in
// the same binary, so ratios taken from one output file come from one run.
//
//   BM_workq_lfstack        lfstack push/pop of intrusive nodes (each thread
//                           owns 64 nodes it circulates through the stack).
//   BM_workq_pool           buffer_pool put_full / try_get_full of whole
//                           buffers (each carries up to 253 items; a pair
//                           moves one buffer, not one item).
//   BM_workq_cache          worker_cache put / try_get of single items in
//                           bursts of 600 puts then 600 gets (> 2 buffers, so
//                           every burst crosses the pool; 2 ops = 1 pair).
//   BM_cds_TreiberStack     libcds TreiberStack<gc::HP, uint64_t> push/pop
//                           (allocates a node per push; HP-guarded pop).
//   BM_ck_stack_mpmc        Concurrency Kit ck_stack_push_mpmc/pop_mpmc
//                           (intrusive, generation-tagged like lfstack).
//   BM_tbb_concurrent_queue TBB concurrent_queue<uint64_t> push/try_pop.
//
// libcds needs cds::Initialize(), a Hazard Pointer GC singleton and every
// thread attached; that is done here (main and per benchmark thread) and is
// libcds's cost, outside the timed loop.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "workq/cache.hpp"
#include "workq/lfstack.hpp"
#include "workq/pool.hpp"

#if defined(WORKQ_BENCH_HAVE_CDS)
#include <cds/container/treiber_stack.h>
#include <cds/gc/hp.h>
#include <cds/init.h>
#endif
#if defined(WORKQ_BENCH_HAVE_CK)
// ck_stack.h's batch-pop and push_mpnc functions assign void* to a pointer without a
// cast (valid C, invalid C++). We do not use them: claim their feature
// macros so the header skips them, and include the rest as C++.
#define CK_F_STACK_BATCH_POP_UPMC
#define CK_F_STACK_BATCH_POP_MPMC
#define CK_F_STACK_PUSH_MPNC
#include <ck_stack.h>
#endif
#if defined(WORKQ_BENCH_HAVE_TBB)
#include <tbb/concurrent_queue.h>
#endif

namespace {

constexpr int max_threads = 4;
constexpr std::size_t nodes_per_thread = 64;

void threads(benchmark::internal::Benchmark* b) {
  b->Threads(1)->Threads(2)->Threads(max_threads)->UseRealTime()->MinTime(0.2);
}

// --------------------------------------------------------------- lfstack

struct alignas(16) bnode : workq::lfnode {
  std::uint64_t payload = 0;
};
workq::lfstack g_stack;
bnode g_nodes[max_threads][nodes_per_thread];

void BM_workq_lfstack(benchmark::State& state) {
  std::vector<workq::lfnode*> mine;
  for (auto& n : g_nodes[state.thread_index()]) mine.push_back(&n);
  for (auto _ : state) {
    if (!mine.empty()) {
      g_stack.push(mine.back());
      mine.pop_back();
    }
    if (workq::lfnode* n = g_stack.pop()) mine.push_back(n);
  }
  // The loop ends at a barrier: nobody else touches the stack now.
  if (state.thread_index() == 0)
    while (g_stack.pop() != nullptr) {
    }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_workq_lfstack)->Apply(threads);

// ----------------------------------------------------------- buffer_pool

using pool_t = workq::buffer_pool<void*>;
pool_t& bench_pool() {
  static pool_t* p = new pool_t;  // leaked: never reset while buffers circulate
  return *p;
}

void BM_workq_pool(benchmark::State& state) {
  pool_t& pool = bench_pool();
  std::vector<pool_t::buffer*> mine;
  for (int i = 0; i < 8; ++i) {
    pool_t::buffer* b = pool.get_empty();
    b->obj[0].store(nullptr);
    b->nobj.store(1);
    mine.push_back(b);
  }
  for (auto _ : state) {
    if (!mine.empty()) {
      pool.put_full(mine.back());
      mine.pop_back();
    }
    if (pool_t::buffer* b = pool.try_get_full()) mine.push_back(b);
  }
  for (pool_t::buffer* b : mine) {
    b->nobj.store(0);
    pool.put_empty(b);
  }
  if (state.thread_index() == 0)  // only thread 0 touches `full` after the loop
    while (pool_t::buffer* b = pool.try_get_full()) {
      b->nobj.store(0);
      pool.put_empty(b);
    }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_workq_pool)->Apply(threads);

// ---------------------------------------------------------- worker_cache

using cache_t = workq::worker_cache<void*>;
pool_t& cache_pool() {
  static pool_t* p = new pool_t;  // leaked; leftover full buffers feed later runs
  return *p;
}

void BM_workq_cache(benchmark::State& state) {
  constexpr int burst = 600;
  cache_t cache(cache_pool());
  bool putting = true;
  int k = 0;
  void* x = &k;
  for (auto _ : state) {
    if (putting) {
      cache.put(x);
      if (++k == burst) putting = false, k = 0;
    } else if (!cache.try_get(x) || ++k == burst) {
      putting = true;
      k = 0;
    }
    benchmark::DoNotOptimize(x);
  }
  cache.dispose();
  state.SetItemsProcessed(state.iterations() / 2);
}
BENCHMARK(BM_workq_cache)->Apply(threads);

// ------------------------------------------------------------ libcds peer

#if defined(WORKQ_BENCH_HAVE_CDS)
using cds_stack = cds::container::TreiberStack<cds::gc::HP, std::uint64_t>;
cds_stack* g_cds = nullptr;  // created in main, after the HP GC

void BM_cds_TreiberStack(benchmark::State& state) {
  const bool attached_here = !cds::threading::Manager::isThreadAttached();
  if (attached_here) cds::threading::Manager::attachThread();
  for (std::size_t i = 0; i < nodes_per_thread; ++i) g_cds->push(i);
  std::uint64_t v = 0;
  for (auto _ : state) {
    g_cds->push(v);
    g_cds->pop(v);
  }
  if (state.thread_index() == 0) g_cds->clear();
  if (attached_here && state.thread_index() != 0) cds::threading::Manager::detachThread();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_cds_TreiberStack)->Apply(threads);
#endif

// -------------------------------------------------------- ck_stack peer

#if defined(WORKQ_BENCH_HAVE_CK)
alignas(16) ck_stack_t g_ck = CK_STACK_INITIALIZER;
ck_stack_entry_t g_ck_nodes[max_threads][nodes_per_thread];

void BM_ck_stack_mpmc(benchmark::State& state) {
  std::vector<ck_stack_entry_t*> mine;
  for (auto& n : g_ck_nodes[state.thread_index()]) mine.push_back(&n);
  for (auto _ : state) {
    if (!mine.empty()) {
      ck_stack_push_mpmc(&g_ck, mine.back());
      mine.pop_back();
    }
    if (ck_stack_entry_t* n = ck_stack_pop_mpmc(&g_ck)) mine.push_back(n);
  }
  if (state.thread_index() == 0)
    while (ck_stack_pop_mpmc(&g_ck) != nullptr) {
    }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ck_stack_mpmc)->Apply(threads);
#endif

// --------------------------------------------------------------- TBB peer

#if defined(WORKQ_BENCH_HAVE_TBB)
tbb::concurrent_queue<std::uint64_t> g_tbb;

void BM_tbb_concurrent_queue(benchmark::State& state) {
  for (std::uint64_t i = 0; i < nodes_per_thread; ++i) g_tbb.push(i);
  std::uint64_t v = 0;
  for (auto _ : state) {
    g_tbb.push(v);
    g_tbb.try_pop(v);
  }
  if (state.thread_index() == 0) g_tbb.clear();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_tbb_concurrent_queue)->Apply(threads);
#endif

}  // namespace

int main(int argc, char** argv) {
#if defined(WORKQ_BENCH_HAVE_CDS)
  cds::Initialize();
  {
    cds::gc::HP hp_gc;  // the Hazard Pointer singleton TreiberStack<gc::HP> needs
    cds::threading::Manager::attachThread();
    g_cds = new cds_stack;
#endif
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
#if defined(WORKQ_BENCH_HAVE_CDS)
    delete g_cds;
    cds::threading::Manager::detachThread();
  }
  cds::Terminate();
#endif
  return 0;
}
