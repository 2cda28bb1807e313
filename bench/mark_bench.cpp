// bench/mark_bench.cpp — one full mark of a heap: the reference marker
// (src/marker) against Boehm GC's parallel marker, on the same heap shape.
//
// Heaps (built once per process, outside every timing):
//   trees  build_heap(shape::trees, 2M): the BinaryTree benchmark shape,
//          4 complete binary trees of depth 18 (2,097,148 nodes, 2 pointer
//          fields each, allocated bottom-up / post-order), one global root
//          per tree.
//   mixed  build_heap(shape::mixed, 1M): the marker's default shape at a
//          quarter of workq-mark's default size (trees, a random graph,
//          4 interleaved lists, 4 large arrays of leaves).
//
// Cases (each iteration = one full mark; the mark bits are cleared between
// iterations, outside the timing — UseManualTime):
//   BM_workq_seq_plain     mark_sequential_plain: DFS with an explicit stack.
//   BM_workq_seq_prefetch  mark_sequential_prefetch: DFS behind a FIFO of
//                          prefetched objects (Boehm's GC_mark_from scheme).
//   BM_workq_parallel/N    run_mark with N workers, 0 mutators, cpu goal 1
//                          (all N workers dedicated). Timed: mark_result::
//                          seconds = root jobs + concurrent drain + (empty)
//                          mark termination, including starting and joining
//                          the worker threads twice (both phases).
//   BM_boehm_gcollect      Boehm GC (libgc): the same graph cloned object by
//                          object into GC_MALLOC memory in the workq
//                          allocation order (n pointer fields -> GC_MALLOC(8n);
//                          pointer-free objects GC_MALLOC_ATOMIC), roots in one
//                          GC_MALLOC_UNCOLLECTABLE array. Timed: one
//                          GC_gcollect() — a full stop-the-world collection:
//                          clearing Boehm's mark bits, stopping the world,
//                          root scan (data segments, this thread's stack and
//                          registers, the root array), the parallel mark, and
//                          the start of the sweep (Boehm sweeps lazily: most
//                          sweeping is deferred to later allocations and is
//                          not in this figure). The counter mark_ns_per_obj is
//                          the GC_EVENT_MARK_START..MARK_END part alone.
//                          Boehm's marker count is fixed per process
//                          (GC_MARKERS in the environment, read by GC_INIT);
//                          the name carries it (markers:N, from
//                          GC_get_parallel() + 1). scripts/bench.sh runs a
//                          second process with GC_MARKERS=1.
//
// Counters (per repetition of 10 marks; the output keeps only the aggregates
// over the 5 repetitions — report the medians):
//   ns_per_obj     timed seconds / (iterations * objects marked) (workq: mark
//                  bits set, checked against the reachable count; Boehm:
//                  objects cloned).
//   x_prefetch     ns_per_obj / the median ns_per_obj of the
//                  BM_workq_seq_prefetch repetitions run so far on the same
//                  heap in this process (for the later cases: all 5; absent
//                  when the filter left that case out). bench/RESULTS.md
//                  takes its ratios from the medians of ns_per_obj instead.
//   mark_ns_per_obj, mark_x_prefetch   Boehm: the same for the mark phase alone.
// The CPU column is the benchmark thread's CPU time only: meaningless for
// run_mark (the thread waits for its workers) and for Boehm's helper marker.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "marker/heap.hpp"
#include "marker/marker.hpp"

#if defined(WORKQ_BENCH_HAVE_BOEHM)
#define GC_THREADS
#include <gc.h>
#endif

namespace {

using namespace workq::marker;
using clock_type = std::chrono::steady_clock;

struct heap_case {
  const char* name;
  shape kind;
  std::uint64_t objects;
};
constexpr heap_case kHeaps[] = {{"trees", shape::trees, 2'000'000},
                                {"mixed", shape::mixed, 1'000'000}};

struct built_heap {
  std::unique_ptr<heap> h;
  std::uint64_t reachable = 0;  // objects reachable from the globals
};

built_heap& get_heap(int which) {
  static std::map<int, built_heap> heaps;
  auto it = heaps.find(which);
  if (it != heaps.end()) return it->second;
  heap_spec spec;
  spec.kind = kHeaps[which].kind;
  spec.objects = kHeaps[which].objects;
  built_heap b;
  b.h = build_heap(spec);
  b.reachable = check_complete(*b.h, {}).reachable;
  return heaps.emplace(which, std::move(b)).first->second;
}

// ns/object of every seq_prefetch repetition so far, per heap.
std::map<int, std::vector<double>>& prefetch_runs() {
  static std::map<int, std::vector<double>> m;
  return m;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size() / 2;
  return v.size() % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

double per_object_ns(const benchmark::State& state, double seconds, std::uint64_t objects) {
  return seconds * 1e9 / (static_cast<double>(objects) * static_cast<double>(state.iterations()));
}

// Set ns_per_obj and, against the median of the prefetch repetitions on this
// heap, x_prefetch (`prefix` names a second figure, e.g. Boehm's mark phase).
void report(benchmark::State& state, int which, double ns, const std::string& prefix = "") {
  state.counters[prefix + "ns_per_obj"] = ns;
  if (auto it = prefetch_runs().find(which); it != prefetch_runs().end() && !it->second.empty())
    state.counters[prefix + "x_prefetch"] = ns / median(it->second);
}

template <class Mark>
void run_seq(benchmark::State& state, int which, Mark mark, bool is_baseline) {
  built_heap& b = get_heap(which);
  double total = 0;
  std::uint64_t marked = 0;
  for (auto _ : state) {
    b.h->clear_marks();
    const seq_result r = mark(*b.h);
    state.SetIterationTime(r.seconds);
    total += r.seconds;
    marked = r.objects;
  }
  if (marked != b.reachable) {
    state.SkipWithError("marked object count differs from the reachable count");
    return;
  }
  const double ns = per_object_ns(state, total, marked);
  if (is_baseline) prefetch_runs()[which].push_back(ns);
  report(state, which, ns);
  state.counters["objects"] = static_cast<double>(marked);
}

void run_parallel(benchmark::State& state, int which, unsigned workers) {
  built_heap& b = get_heap(which);
  mark_config cfg;
  cfg.workers = workers;
  cfg.mutators = 0;
  cfg.cpu_goal = 1.0;
  double total = 0;
  std::uint64_t marked = 0;
  for (auto _ : state) {
    b.h->clear_marks();
    const mark_result r = run_mark(*b.h, cfg);
    state.SetIterationTime(r.seconds);
    total += r.seconds;
    marked = r.marked_objects;
  }
  if (marked != b.reachable) {
    state.SkipWithError("marked object count differs from the reachable count");
    return;
  }
  report(state, which, per_object_ns(state, total, marked));
  state.counters["objects"] = static_cast<double>(marked);
}

#if defined(WORKQ_BENCH_HAVE_BOEHM)
// ---------------------------------------------------------------- Boehm GC

double g_mark_start = 0, g_mark_seconds = 0;

double now_s() {
  return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count();
}

void GC_CALLBACK on_gc_event(GC_EventType e) {
  if (e == GC_EVENT_MARK_START) g_mark_start = now_s();
  if (e == GC_EVENT_MARK_END) g_mark_seconds += now_s() - g_mark_start;
}

struct boehm_heap {
  int which = -1;
  void** roots = nullptr;  // GC_MALLOC_UNCOLLECTABLE: scanned, never freed by the GC
  std::size_t nroots = 0;
  std::uint64_t objects = 0;
};

// Clone workq heap `which` into Boehm memory (dropping any previous clone, so
// a collection only ever traverses one heap).
boehm_heap& get_boehm(int which) {
  static boehm_heap bh;
  if (bh.which == which) return bh;
  if (bh.roots != nullptr) {
    GC_FREE(bh.roots);
    bh = boehm_heap{};
    GC_gcollect();
  }
  built_heap& b = get_heap(which);
  heap& h = *b.h;
  // Reachable objects in address (= allocation) order.
  std::vector<object*> objs;
  objs.reserve(b.reachable);
  {
    std::vector<std::uint64_t> seen(h.used_bytes() / granule / 64 + 1, 0);
    std::vector<object*> stack;
    const auto visit = [&](object* p) {
      if (p == nullptr) return;
      const std::size_t g =
          static_cast<std::size_t>(reinterpret_cast<char*>(p) - h.base()) / granule;
      if (seen[g / 64] >> (g % 64) & 1) return;
      seen[g / 64] |= std::uint64_t{1} << (g % 64);
      objs.push_back(p);
      stack.push_back(p);
    };
    for (std::size_t i = 0; i < h.nglobals(); ++i) visit(h.global_value(i));
    while (!stack.empty()) {
      object* o = stack.back();
      stack.pop_back();
      for (std::uint32_t i = 0; i < o->nfields; ++i)
        visit(o->field(i).load(std::memory_order_relaxed));
    }
  }
  std::sort(objs.begin(), objs.end());
  // Allocate every clone first, into a table Boehm scans (objs itself is in
  // malloc memory, which it does not), then link them, then drop the table.
  const std::size_t n = objs.size();
  auto** table = static_cast<void**>(GC_MALLOC_UNCOLLECTABLE(n * sizeof(void*)));
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t nf = objs[i]->nfields;
    table[i] = nf == 0 ? GC_MALLOC_ATOMIC(sizeof(void*)) : GC_MALLOC(nf * sizeof(void*));
    if (table[i] == nullptr) {
      std::fprintf(stderr, "mark_bench: GC_MALLOC failed\n");
      std::abort();
    }
  }
  const auto clone_of = [&](object* p) -> void* {
    if (p == nullptr) return nullptr;
    return table[static_cast<std::size_t>(std::lower_bound(objs.begin(), objs.end(), p) -
                                          objs.begin())];
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t nf = objs[i]->nfields;
    auto** f = static_cast<void**>(table[i]);
    for (std::uint32_t k = 0; k < nf; ++k)
      f[k] = clone_of(objs[i]->field(k).load(std::memory_order_relaxed));
  }
  bh.nroots = h.nglobals();
  bh.roots = static_cast<void**>(GC_MALLOC_UNCOLLECTABLE(bh.nroots * sizeof(void*)));
  for (std::size_t i = 0; i < bh.nroots; ++i) bh.roots[i] = clone_of(h.global_value(i));
  GC_FREE(table);
  bh.which = which;
  bh.objects = n;
  GC_gcollect();  // settle: the first collection after the build also sweeps build garbage
  return bh;
}

void run_boehm(benchmark::State& state, int which) {
  boehm_heap& bh = get_boehm(which);
  double total = 0;
  g_mark_seconds = 0;
  for (auto _ : state) {
    const auto t0 = clock_type::now();
    GC_gcollect();
    const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    state.SetIterationTime(s);
    total += s;
  }
  report(state, which, per_object_ns(state, total, bh.objects));
  report(state, which, per_object_ns(state, g_mark_seconds, bh.objects), "mark_");
  state.counters["objects"] = static_cast<double>(bh.objects);
}
#endif

void apply(benchmark::internal::Benchmark* b) {  // a mark is ~10-50 ms here
  b->Iterations(10)->Repetitions(5)->ReportAggregatesOnly(true)->UseManualTime()->Unit(
      benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
#if defined(WORKQ_BENCH_HAVE_BOEHM)
  GC_INIT();
  GC_start_mark_threads();
  GC_set_on_collection_event(on_gc_event);
  const int markers = GC_get_parallel() + 1;
  {
    // Boehm's size for a 2-pointer node (all-interior-pointers adds a byte,
    // so a 16-byte request takes a 32-byte slot, like workq's 8-byte header
    // + 2 fields rounded to 16).
    void* probe = GC_MALLOC(2 * sizeof(void*));
    benchmark::AddCustomContext("boehm_markers", std::to_string(markers));
    benchmark::AddCustomContext("boehm_node_bytes", std::to_string(GC_size(probe)));
    benchmark::AddCustomContext("boehm_version",
                                std::to_string(GC_get_version() >> 16) + "." +
                                    std::to_string((GC_get_version() >> 8) & 0xff) + "." +
                                    std::to_string(GC_get_version() & 0xff));
  }
#endif
  for (int w = 0; w < static_cast<int>(std::size(kHeaps)); ++w) {
    const std::string hn = kHeaps[w].name;
    // The baseline first, so every later case on this heap gets x_prefetch.
    apply(benchmark::RegisterBenchmark(
        ("BM_workq_seq_prefetch/" + hn).c_str(),
        [w](benchmark::State& st) { run_seq(st, w, mark_sequential_prefetch, true); }));
    apply(benchmark::RegisterBenchmark(
        ("BM_workq_seq_plain/" + hn).c_str(),
        [w](benchmark::State& st) { run_seq(st, w, mark_sequential_plain, false); }));
    for (unsigned n : {1u, 2u})
      apply(benchmark::RegisterBenchmark(
          ("BM_workq_parallel/" + hn + "/workers:" + std::to_string(n)).c_str(),
          [w, n](benchmark::State& st) { run_parallel(st, w, n); }));
#if defined(WORKQ_BENCH_HAVE_BOEHM)
    apply(benchmark::RegisterBenchmark(
        ("BM_boehm_gcollect/" + hn + "/markers:" + std::to_string(markers)).c_str(),
        [w](benchmark::State& st) { run_boehm(st, w); }));
#endif
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
