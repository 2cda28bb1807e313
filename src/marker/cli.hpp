// src/marker/cli.hpp — the workq-mark command line: option parsing and the run.
//
// Exit codes: 0 marking complete; 1 the completeness checker found reachable
// objects unmarked (or the root-scan modes disagreed); 2 bad command line;
// 3 bad input (unreadable or malformed heap file, absurd size).
// Every error is one line on stderr: "workq-mark: error: ...".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "marker/heap.hpp"
#include "marker/marker.hpp"

WORKQ_NAMESPACE_BEGIN
namespace marker {

enum class root_scan_choice { workers, coordinator, both };
enum class seq_choice { none, plain, prefetch, both };

struct options {
  shape kind = shape::mixed;
  std::uint64_t objects = 4'000'000;
  std::string input;  ///< heap file; overrides kind/objects
  std::uint64_t seed = 1;
  unsigned workers = 0;  ///< 0: one per hardware thread
  unsigned mutators = 1;
  double cpu_goal = 0;  ///< 0: auto (25% with mutators, 100% without)
  root_scan_choice roots = root_scan_choice::workers;
  seq_choice sequential = seq_choice::prefetch;
  bool barrier = true;
  bool prefetch = true;
  bool json = false;
  bool help = false;
  bool progress = true;
};

/// Parse argv. Returns true on success; on failure `error` holds a one-line
/// message (without the "workq-mark: error: " prefix).
bool parse_options(int argc, const char* const* argv, options& out, std::string& error);

/// The usage text (--help).
const char* usage();

/// Run workq-mark: parse, build or load, mark, check, report. Returns the exit code.
int cli_main(int argc, const char* const* argv, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace marker
WORKQ_NAMESPACE_END
