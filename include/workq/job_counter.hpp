// workq/job_counter.hpp — indexed jobs claimed by fetch-add.
//
// Descends from the Go runtime's markrootNext/markrootJobs pair (mgc.go,
// "runtime: perform concurrent scan in GC workers", 2015) and its debug check
// gcMarkRootCheck (mgcmark.go). A coordinator publishes `n` jobs while
// quiescent; any number of workers then claim indices 0..n-1, each exactly
// once, with one fetch_add per claim (or per batch of claims).
//
// Contract
//   * reset(n) is called while no thread claims (the quiescent point between
//     cycles). Whatever hands the workers their start signal (thread start, a
//     barrier, a release store they acquire) orders reset() before the claims.
//   * try_claim() and claim_batch(k) may be called by any number of threads.
//     Each index in [0, n) is returned to exactly one caller.
//   * Overshoot is fine: a claim after exhaustion still increments `next`, so
//     `next` may exceed `jobs` by at most one batch per claim attempt (a batch
//     is clamped to `jobs`). `next` is 64 bits wide, so it cannot wrap in any
//     realistic run.
//   * has_unclaimed() is a racy hint (Go's `markrootNext < markrootJobs` test
//     before the drain loop): "false" is final for this cycle, "true" may be
//     stale by the time the caller acts on it.
//   * finish(k) records k claimed jobs as completed; check_all_done() (Go:
//     gcMarkRootCheck) fails loudly unless every job was claimed *and*
//     finished. Call it only at a quiescent point (after termination).
//
// Ordering
//   Claims are relaxed: a fetch_add is atomic in any order, so exactly-once
//   holds without fences, and the job's *input* was published before the
//   workers started. Completion is a release RMW (1) that pairs with the
//   acquire load in check_all_done (2), so a checker that sees every job
//   finished also sees the jobs' effects.
#pragma once

#include <cstdint>
#include <optional>

#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN

class job_counter {
 public:
  using index = std::uint64_t;

  /// Half-open range [begin, end) of claimed job indices; empty() when the
  /// claim found nothing left.
  struct range {
    index begin = 0;
    index end = 0;
    [[nodiscard]] bool empty() const noexcept { return begin >= end; }
    [[nodiscard]] index size() const noexcept { return empty() ? 0 : end - begin; }
  };

  job_counter() = default;
  explicit job_counter(index n) { reset(n); }
  job_counter(const job_counter&) = delete;
  job_counter& operator=(const job_counter&) = delete;

  /// Publish jobs 0..n-1 and forget the previous cycle. Quiescent only.
  void reset(index n) {
    jobs_.store(n, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
  }

  /// Claim one job: its index, or nullopt when all jobs have been claimed.
  [[nodiscard]] std::optional<index> try_claim() {
    index j;
    if (WORKQ_MUTANT(claim_load_store)) {  // known-bad: two claimers can read the same j
      j = next_.load(std::memory_order_relaxed);
      next_.store(j + 1, std::memory_order_relaxed);
    } else {
      j = next_.fetch_add(1, std::memory_order_relaxed);
    }
    if (j >= jobs_.load(std::memory_order_relaxed)) return std::nullopt;
    return j;
  }

  /// Claim up to k consecutive jobs with one fetch_add (k >= 1). Beyond Go:
  /// many tiny jobs cost one atomic per batch instead of one each.
  [[nodiscard]] range claim_batch(index k) {
    const index n = jobs_.load(std::memory_order_relaxed);
    // Clamp k to [1, max(n, 1)]: one batch never needs more than every job,
    // and the clamp keeps `next` from wrapping however large k is.
    if (k > n) k = n;
    if (k == 0) k = 1;
    const index b = next_.fetch_add(k, std::memory_order_relaxed);
    if (b >= n) return {};
    return {b, n - b > k ? b + k : n};
  }

  /// Racy hint: may jobs remain unclaimed? "false" is final for this cycle.
  [[nodiscard]] bool has_unclaimed() const {
    return next_.load(std::memory_order_relaxed) < jobs_.load(std::memory_order_relaxed);
  }

  /// Record k claimed jobs as completed.
  void finish(index k = 1) {
    // (1) release: the job's effects happen-before a checker's acquire (2).
    done_.fetch_add(k, std::memory_order_release);
  }

  [[nodiscard]] index jobs() const { return jobs_.load(std::memory_order_relaxed); }
  /// Jobs handed out so far (clamped to jobs()).
  [[nodiscard]] index claimed() const {
    const index c = next_.load(std::memory_order_relaxed), n = jobs();
    return c < n ? c : n;
  }
  [[nodiscard]] index finished() const {
    // (2) acquire: pairs with the release in finish (1).
    return done_.load(std::memory_order_acquire);
  }

  /// Go: gcMarkRootCheck. Quiescent only. Fails loudly when a job was never
  /// claimed, or claimed and never finished.
  void check_all_done() const {
    if (claimed() < jobs()) sync::fatal("job_counter: left over jobs (unclaimed)");
    if (finished() != jobs()) sync::fatal("job_counter: claimed jobs not finished");
  }

 private:
  // next_ is hammered by every claimer; keep it off the line holding the
  // read-mostly jobs_ so the racy has_unclaimed() hint stays cheap.
  alignas(sync::cache_line) sync::atomic<index> next_{0};
  alignas(sync::cache_line) sync::atomic<index> jobs_{0};
  sync::atomic<index> done_{0};
};

WORKQ_NAMESPACE_END
