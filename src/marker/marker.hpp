// src/marker/marker.hpp — the reference concurrent marker, the sequential
// baseline markers and the completeness checker.
//
// A mark cycle (run_mark)
//   1. Mutator threads start; every pointer store goes through the hybrid
//      barrier (core.hpp); objects they allocate are black.
//   2. Root scan. --root-scan=workers (the seed's design): root jobs — global
//      data cut into heap::global_block-slot blocks, then one job per mutator
//      stack — are published on a job_counter and claimed by the workers in
//      drain() before heap work. --root-scan=coordinator (Go before the
//      seed): the coordinating thread scans every root job sequentially
//      before the workers start.
//   3. Concurrent mark: `dedicated` workers run drain() in blocking mode and
//      at most one fractional worker runs drain() in fractional mode for
//      goal * period of every period, pausing (termination_detector::pause)
//      in between and resuming (resume) after. The CPU goal (default 25% of
//      the workers while mutators run, as Go's gcBackgroundUtilization; 100%
//      without mutators) is split into floor(goal * workers) dedicated
//      workers plus the fraction left over.
//      A stack root job is a handshake: the claiming worker asks the mutator
//      to scan its own stack at its next safepoint and waits for the answer.
//      Workers never scan a running thread's stack (the seed's
//      preemption-deadlock rule: two non-preemptible scanners must never wait
//      to scan each other).
//   4. Mark termination: every mutator is stopped at a safepoint; then the
//      same drain() code path runs with all workers, blocking: the detector
//      and the job counter are reset, with one root job per mutator (flush
//      its barrier buffer — and scan its stack if it never was — while it is
//      held). Then job_counter::check_all_done() (Go: gcMarkRootCheck) and
//      buffer_pool::reset() (the pool is empty, every buffer home).
//   5. Mutators are released and exit; the heap is then final.
//
// The completeness checker (check_complete) traverses the final heap from the
// final roots (globals + final mutator stacks) and counts reachable objects
// that are not marked; floating garbage (marked but unreachable) is allowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "marker/core.hpp"
#include "marker/heap.hpp"

WORKQ_NAMESPACE_BEGIN
namespace marker {

enum class root_scan { workers, coordinator };

struct mark_config {
  unsigned workers = 1;   ///< worker threads (all of them run mark termination)
  unsigned mutators = 0;  ///< mutator threads
  double cpu_goal = 0;    ///< concurrent-phase CPU goal as a fraction of `workers`; 0: auto
  root_scan roots = root_scan::workers;
  bool barrier = true;             ///< false: known-bad debug run without the write barrier
  bool prefetch = true;            ///< prefetch FIFO in the workers' scan loop
  std::uint64_t seed = 1;          ///< mutator programs
  std::uint64_t warmup_steps = 1;  ///< marking starts after each mutator ran this many steps
};

struct worker_stats {
  std::uint64_t objects = 0;  ///< objects scanned (object starts; oblets not counted)
  std::uint64_t items = 0;    ///< work items scanned (objects + oblets)
  std::uint64_t roots = 0;    ///< root jobs run
  std::uint64_t bytes = 0;    ///< object bytes scanned
  bool fractional = false;
};

struct mark_result {
  double seconds = 0;            ///< whole cycle (root scan + concurrent + termination)
  double root_scan_seconds = 0;  ///< coordinator mode: the sequential root phase
  double concurrent_seconds = 0;
  double termination_seconds = 0;
  std::uint64_t marked_objects = 0;  ///< mark bits set (includes black allocations)
  std::uint64_t marked_bytes = 0;    ///< scanned object bytes + black-allocated bytes
  std::vector<worker_stats> workers;
  unsigned dedicated = 0;
  bool has_fractional = false;
  double fractional_goal = 0;          ///< utilisation of the fractional worker
  std::uint64_t root_jobs = 0;         ///< concurrent-phase root jobs
  std::uint64_t termination_jobs = 0;  ///< mark-termination root jobs
  std::uint64_t buffers = 0;           ///< pool.buffers()
  std::uint64_t waits = 0, parks = 0;  ///< detector waits()/parks(), both phases
  std::uint64_t mutator_steps = 0, mutator_allocs = 0, mutator_alloc_bytes = 0;
  std::uint64_t hiding_moves = 0, barrier_shades = 0, barrier_flushes = 0;
  std::vector<object*> final_roots;  ///< final mutator stacks (non-null slots)
};

/// One concurrent mark cycle on `h` (marks must be clear).
mark_result run_mark(heap& h, const mark_config& cfg);

struct seq_result {
  double seconds = 0;
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;
};
/// Sequential depth-first marker with an explicit stack (marks must be clear).
seq_result mark_sequential_plain(heap& h);
/// Sequential depth-first marker with a FIFO of prefetched objects in front
/// of the stack (Boehm's GC_mark_from; Cher, Hosking & Vijaykumar 2004).
seq_result mark_sequential_prefetch(heap& h);

struct check_result {
  std::uint64_t reachable = 0;
  std::uint64_t unmarked = 0;  ///< reachable but not marked: a completeness bug
  std::uint64_t marked = 0;    ///< mark bits set
  [[nodiscard]] bool complete() const noexcept { return unmarked == 0; }
};
/// Quiescent: every object reachable from globals + `extra_roots` marked?
check_result check_complete(const heap& h, const std::vector<object*>& extra_roots);

/// The CPU goal resolved for `cfg`: (dedicated workers, fractional utilisation).
std::pair<unsigned, double> split_goal(const mark_config& cfg);

}  // namespace marker
WORKQ_NAMESPACE_END
