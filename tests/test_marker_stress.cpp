// tests/test_marker_stress.cpp — the reference concurrent marker under load:
// larger heaps, up to 8 workers and 4 mutators, several seeds and CPU goals;
// every run must be complete under the hybrid barrier.
#include <gtest/gtest.h>

#include "marker/heap.hpp"
#include "marker/marker.hpp"

namespace {

using namespace workq::marker;

TEST(marker_stress, ManySeedsWorkersMutators) {
  const shape shapes[] = {shape::mixed, shape::trees, shape::graph, shape::lists, shape::arrays};
  unsigned run = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    for (shape s : shapes) {
      heap_spec spec;
      spec.kind = s;
      spec.objects = 120'000;
      spec.seed = seed;
      spec.mutator_headroom = std::size_t{16} << 20;
      auto h = build_heap(spec);
      mark_config c;
      c.workers = 1 + (run % 8);
      c.mutators = run % 5;
      c.roots = run % 2 ? root_scan::coordinator : root_scan::workers;
      c.cpu_goal = (run % 3 == 0) ? 0 : (run % 3 == 1 ? 0.25 : 1.0);
      c.seed = seed * 100 + run;
      c.warmup_steps = 500;
      const mark_result r = run_mark(*h, c);
      const check_result cr = check_complete(*h, r.final_roots);
      EXPECT_TRUE(cr.complete()) << shape_name(s) << " seed=" << seed << " workers=" << c.workers
                                 << " mutators=" << c.mutators << ": " << cr.unmarked << " of "
                                 << cr.reachable << " unmarked";
      ++run;
    }
  }
}

// Repeated cycles on one heap with mutators: marks cleared between cycles,
// mutators keep changing the heap from cycle to cycle.
TEST(marker_stress, RepeatedCycles) {
  heap_spec spec;
  spec.objects = 100'000;
  spec.seed = 42;
  spec.mutator_headroom = std::size_t{64} << 20;
  auto h = build_heap(spec);
  for (unsigned cycle = 0; cycle < 12; ++cycle) {
    mark_config c;
    c.workers = 2 + cycle % 3;
    c.mutators = 1 + cycle % 4;
    c.seed = cycle;
    c.warmup_steps = 200;
    const mark_result r = run_mark(*h, c);
    const check_result cr = check_complete(*h, r.final_roots);
    EXPECT_TRUE(cr.complete()) << "cycle " << cycle << ": " << cr.unmarked << " unmarked";
    h->clear_marks();
  }
}

}  // namespace
