// verify/harness.hpp — shared driver for the Relacy verification suites.
//
// A verify executable is one translation unit per component holding several
// Relacy test suites; main() builds a `harness` from argv and runs each suite
// under one or more schedulers:
//
//   int main(int argc, char** argv) {
//     workq_verify::harness h(argc, argv);
//     h.full<my_suite<2>>("thing.2t");                          // exhaustive
//     h.bound_and_random<my_suite<3>>("thing.3t", 2, 100000);   // bounded + random
//     h.full<my_suite<2, rl::test_result_data_race>>("thing.mutant.x", mutant::x);
//     return h.finish();                                          // non-zero if any failed
//   }
//
// Outcome semantics: rl::simulate returns true when the outcome equals the
// suite's *expected* result (third template argument of rl::test_suite). A
// known-bad variant ("mutant", selected through sync::active_mutant) is thus a
// PASSING run when Relacy reports the expected failure. The harness sets
// sync::active_mutant before a run and resets it after.
//
// Output: one line per run —
//   PASS|FAIL  name  threads  scheduler  bound  iterations  seconds  verdict
// On an unexpected outcome Relacy's full report (with the interleaving
// history) follows. --verbose prints it for every run that found a failure.
//
// Command line:
//   --long          long exploration: random iterations x100 (WORKQ_VERIFY_LONG_FACTOR
//                   overrides), context bounds +1
//   --verbose       print Relacy's report for every run that ended in a failure
//   --filter=TEXT   run only the suites whose name contains TEXT
//   --list          print the run plan, run nothing
//
// Include order: every standard header a suite needs must come before this
// file (and before workq headers): workq/sync.hpp pulls in Relacy's headers.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <source_location>
#include <string>
#include <utility>

#include "workq/sync.hpp"

#if !defined(WORKQ_RELACY)
#error "verify/harness.hpp is for the Relacy build (define WORKQ_RELACY)"
#endif

namespace workq_verify {

using workq::sync::mutant;

/// Fail the current Relacy iteration with USER ASSERT FAILED unless `cond`.
/// For the suites' own bookkeeping (ownership marks, exactly-once counts).
inline void check(bool cond, const char* what,
                  std::source_location at = std::source_location::current()) {
  if (!cond)
    rl::ctx().fail_test(what, rl::test_result_user_assert_failed,
                        rl::debug_info(at.function_name(), at.file_name(), at.line()));
}

/// Heap cell for objects with over-aligned members (job_counter, buffer_pool:
/// alignas(64)). Relacy allocates a test suite with malloc (16-byte alignment),
/// so such objects must not be suite members; `new` of an over-aligned type
/// goes to the aligned operator new, which Relacy does not intercept. Create
/// and destroy within one iteration (before()/after() or a thread).
template <class T>
class boxed {
 public:
  boxed() = default;
  boxed(const boxed&) = delete;
  boxed& operator=(const boxed&) = delete;
  ~boxed() { destroy(); }

  template <class... A>
  T& make(A&&... a) {
    destroy();
    p_ = new T(std::forward<A>(a)...);
    return *p_;
  }
  void destroy() {
    delete p_;
    p_ = nullptr;
  }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

enum class sched { full, bound, random };

inline const char* sched_name(sched s) {
  switch (s) {
    case sched::full:
      return "full";
    case sched::bound:
      return "bound";
    case sched::random:
      return "random";
  }
  return "?";
}

inline const char* mutant_name(mutant m) {
  switch (m) {
    case mutant::none:
      return "none";
    case mutant::untagged_head:
      return "untagged_head";
    case mutant::relaxed_publish:
      return "relaxed_publish";
    case mutant::claim_load_store:
      return "claim_load_store";
    case mutant::no_root_check:
      return "no_root_check";
    case mutant::late_withdraw:
      return "late_withdraw";
    case mutant::relaxed_announce:
      return "relaxed_announce";
    case mutant::no_write_barrier:
      return "no_write_barrier";
  }
  return "?";
}

/// One run of one suite under one scheduler.
struct run_spec {
  sched scheduler = sched::full;
  unsigned context_bound = 0;      ///< sched::bound only
  rl::iteration_t iterations = 0;  ///< sched::random only
  unsigned depth_limit = 2000;     ///< Relacy execution_depth_limit (scheduling points)
  mutant active = mutant::none;    ///< known-bad variant to enable for this run
  bool scale_in_long_mode = true;  ///< apply --long scaling to bound / iterations
};

class harness {
 public:
  harness(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const char* a = argv[i];
      if (std::strcmp(a, "--long") == 0) {
        long_ = true;
      } else if (std::strcmp(a, "--verbose") == 0) {
        verbose_ = true;
      } else if (std::strcmp(a, "--list") == 0) {
        list_ = true;
      } else if (std::strncmp(a, "--filter=", 9) == 0) {
        filter_ = a + 9;
      } else {
        std::fprintf(stderr, "usage: %s [--long] [--verbose] [--list] [--filter=TEXT]\n", argv[0]);
        std::exit(2);
      }
    }
    if (const char* f = std::getenv("WORKQ_VERIFY_LONG_FACTOR"))
      long_factor_ = std::strtoull(f, nullptr, 10);
    if (long_factor_ == 0) long_factor_ = 1;
    std::printf("%-6s %-44s %3s %-6s %5s %12s %9s  %s\n", "result", "suite", "thr", "sched",
                "bound", "iterations", "seconds", "verdict");
    std::fflush(stdout);
  }

  [[nodiscard]] bool long_mode() const noexcept { return long_; }
  /// Multiply a count by the --long factor (1 in the default run).
  [[nodiscard]] rl::iteration_t scaled(rl::iteration_t n) const noexcept {
    return long_ ? n * long_factor_ : n;
  }

  /// Exhaustive search (sched_full: all interleavings, no preemption bound).
  template <class Suite>
  bool full(const char* name, mutant m = mutant::none, unsigned depth = 2000) {
    run_spec s;
    s.scheduler = sched::full;
    s.active = m;
    s.depth_limit = depth;
    return run<Suite>(name, s);
  }

  /// Exhaustive up to `bound` preemptions (bound+1 under --long).
  template <class Suite>
  bool bound(const char* name, unsigned context_bound, mutant m = mutant::none,
             unsigned depth = 2000) {
    run_spec s;
    s.scheduler = sched::bound;
    s.context_bound = context_bound;
    s.active = m;
    s.depth_limit = depth;
    return run<Suite>(name, s);
  }

  /// Random schedules (iterations x factor under --long).
  template <class Suite>
  bool random(const char* name, rl::iteration_t iterations, mutant m = mutant::none,
              unsigned depth = 2000) {
    run_spec s;
    s.scheduler = sched::random;
    s.iterations = iterations;
    s.active = m;
    s.depth_limit = depth;
    return run<Suite>(name, s);
  }

  /// The recipe for suites too large for full search: bounded + random.
  template <class Suite>
  bool bound_and_random(const char* name, unsigned context_bound, rl::iteration_t iterations,
                        mutant m = mutant::none, unsigned depth = 2000) {
    const bool a = bound<Suite>(name, context_bound, m, depth);
    const bool b = random<Suite>(name, iterations, m, depth);
    return a && b;
  }

  template <class Suite>
  bool run(const char* name, run_spec s) {
    if (!filter_.empty() && std::strstr(name, filter_.c_str()) == nullptr) return true;
    constexpr unsigned threads = Suite::params::thread_count;
    constexpr rl::test_result_e expected = Suite::params::expected_result;

    if (long_ && s.scale_in_long_mode) {
      if (s.scheduler == sched::bound) s.context_bound += 1;
      if (s.scheduler == sched::random) s.iterations *= long_factor_;
    }

    rl::test_params p;
    rl::ostringstream report;
    p.output_stream = &report;
    p.progress_stream = &report;
    p.execution_depth_limit = s.depth_limit;
    switch (s.scheduler) {
      case sched::full:
        p.search_type = rl::sched_full;
        break;
      case sched::bound:
        p.search_type = rl::sched_bound;
        p.context_bound = s.context_bound;
        break;
      case sched::random:
        p.search_type = rl::sched_random;
        p.iteration_count = s.iterations;
        break;
    }

    char bound_txt[16] = "-";
    if (s.scheduler == sched::bound)
      std::snprintf(bound_txt, sizeof bound_txt, "%u", s.context_bound);

    if (list_) {
      std::printf("%-6s %-44s %3u %-6s %5s %12s %9s  expect %s, mutant %s\n", "plan", name, threads,
                  sched_name(s.scheduler), bound_txt,
                  s.scheduler == sched::random ? std::to_string(s.iterations).c_str() : "-", "-",
                  rl::test_result_str(expected), mutant_name(s.active));
      return true;
    }

    workq::sync::active_mutant = s.active;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = rl::simulate<Suite>(p);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    workq::sync::active_mutant = mutant::none;

    const rl::test_result_e got = p.test_result;
    std::string verdict;
    if (got == rl::test_result_success) {
      verdict = ok ? "verified: no failure" : "NOT CAUGHT: no failure found, expected ";
      if (!ok) verdict += rl::test_result_str(expected);
    } else {
      verdict = ok ? "caught: " : "FAILED: ";
      verdict += rl::test_result_str(got);
      verdict += " at iteration " + std::to_string(p.stop_iteration);
      const std::string where = failure_site(report.str().c_str());
      if (!where.empty()) verdict += " [" + where + "]";
      if (!ok) {
        verdict += ", expected ";
        verdict += rl::test_result_str(expected);
      }
    }
    if (s.active != mutant::none) verdict += std::string(" (mutant ") + mutant_name(s.active) + ")";

    std::printf("%-6s %-44s %3u %-6s %5s %12llu %9.2f  %s\n", ok ? "PASS" : "FAIL", name, threads,
                sched_name(s.scheduler), bound_txt,
                static_cast<unsigned long long>(p.stop_iteration), secs, verdict.c_str());
    if (!ok || (verbose_ && got != rl::test_result_success)) {
      std::printf("----- Relacy report for %s -----\n%s----- end of report -----\n", name,
                  report.str().c_str());
    }
    std::fflush(stdout);

    ++runs_;
    if (!ok) ++failures_;
    total_seconds_ += secs;
    return ok;
  }

  /// Print the summary; the process exit code (0 when every run matched).
  int finish() {
    if (!list_)
      std::printf("summary: %u run(s), %u failed, %.2f s in simulation%s\n", runs_, failures_,
                  total_seconds_, long_ ? " (--long)" : "");
    std::fflush(stdout);
    return failures_ == 0 ? 0 : 1;
  }

 private:
  // The failing event is the last line of Relacy's execution history:
  //   "[k] tid: TEXT, in FUNCTION, /path/file(line)"
  // Returned as "thread tid: TEXT @ file(line)".
  static std::string failure_site(const char* rep) {
    std::string s(rep), last;
    for (std::size_t pos = 0; pos < s.size();) {
      std::size_t eol = s.find('\n', pos);
      if (eol == std::string::npos) eol = s.size();
      if (eol > pos && s[pos] == '[') {
        if (s.compare(pos, eol - pos, "thread ", 0, 7) == 0) break;
      }
      if (eol > pos && s[pos] == '[' && s.find("] ", pos) < eol) last = s.substr(pos, eol - pos);
      if (s.compare(pos, 7, "thread ") == 0) break;  // per-thread histories follow
      pos = eol + 1;
    }
    if (last.empty()) return {};
    std::string out;
    const std::size_t rb = last.find("] ");
    std::string body = last.substr(rb + 2);
    const std::size_t colon = body.find(": ");
    std::string tid = colon == std::string::npos ? "" : body.substr(0, colon);
    if (colon != std::string::npos) body = body.substr(colon + 2);
    std::string text = body, where;
    const std::size_t in = body.find(", in ");
    if (in != std::string::npos) {
      text = body.substr(0, in);
      const std::size_t comma = body.rfind(", ");
      if (comma != std::string::npos && comma > in) where = body.substr(comma + 2);
      const std::size_t slash = where.rfind('/');
      if (slash != std::string::npos) where = where.substr(slash + 1);
    }
    out = "thread " + tid + ": " + text;
    if (!where.empty()) out += " @ " + where;
    if (out.size() > 160) out = out.substr(0, 157) + "...";
    return out;
  }

  bool long_ = false;
  bool verbose_ = false;
  bool list_ = false;
  std::string filter_;
  rl::iteration_t long_factor_ = 100;
  unsigned runs_ = 0;
  unsigned failures_ = 0;
  double total_seconds_ = 0;
};

}  // namespace workq_verify
