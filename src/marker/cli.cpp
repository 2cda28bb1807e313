// src/marker/cli.cpp — workq-mark's option parser, report and main flow.
#include "marker/cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <thread>
#include <vector>

WORKQ_NAMESPACE_BEGIN
namespace marker {

const char* usage() {
  return "usage: workq-mark [options]\n"
         "Builds (or loads) a heap, marks it with the workq concurrent marker while\n"
         "mutator threads change it, and checks that every reachable object was marked.\n"
         "\n"
         "heap:\n"
         "  --heap=SHAPE          mixed (default: binary trees, random graph, lists, big\n"
         "                        arrays), trees, graph, lists, arrays\n"
         "  --objects=N           approximate object count (default 4000000; k/M suffix ok)\n"
         "  --input=FILE          load the heap from FILE (format: src/README.md)\n"
         "  --seed=N              heap and mutator seed (default 1)\n"
         "marking:\n"
         "  --workers=N           mark worker threads (default: one per hardware thread)\n"
         "  --mutators=N          mutator threads (default 1)\n"
         "  --cpu-goal=F          concurrent-phase CPU goal, fraction of the workers\n"
         "                        (default 0.25 with mutators, 1 without)\n"
         "  --root-scan=MODE      workers (default; root jobs drained by workers),\n"
         "                        coordinator (sequential root phase first), both\n"
         "  --sequential=WHICH    baseline sequential markers to time first: prefetch\n"
         "                        (default), plain, both, none\n"
         "  --no-prefetch         workers scan without the prefetch FIFO\n"
         "  --no-barrier          DEBUG: mutators store without the write barrier (a\n"
         "                        known-bad run; the checker should fail it)\n"
         "output:\n"
         "  --json                one JSON object on stdout\n"
         "  --quiet               no progress line on stderr\n"
         "  --help                this text\n"
         "exit: 0 complete, 1 incomplete marking, 2 bad option, 3 bad input\n";
}

namespace {

bool parse_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str()) return false;
  std::uint64_t mult = 1;
  if (*end == 'k' || *end == 'K') {
    mult = 1000;
    ++end;
  } else if (*end == 'M' || *end == 'm') {
    mult = 1000000;
    ++end;
  } else if (*end == 'G' || *end == 'g') {
    mult = 1000000000;
    ++end;
  }
  if (*end != '\0') return false;
  if (v > UINT64_MAX / mult) return false;
  out = v * mult;
  return true;
}

}  // namespace

bool parse_options(int argc, const char* const* argv, options& o, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i] ? argv[i] : "";
    std::string key = a, val;
    bool has_val = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      key = a.substr(0, eq);
      val = a.substr(eq + 1);
      has_val = true;
    }
    const auto need = [&](std::string& v) {
      if (has_val) {
        v = val;
        return true;
      }
      if (i + 1 >= argc) {
        error = "option " + key + " needs a value";
        return false;
      }
      v = argv[++i];
      return true;
    };
    const auto flag = [&] {
      if (has_val) {
        error = "option " + key + " takes no value";
        return false;
      }
      return true;
    };
    const auto number = [&](std::uint64_t lo, std::uint64_t hi, std::uint64_t& out) {
      std::string v;
      if (!need(v)) return false;
      if (!parse_u64(v, out) || out < lo || out > hi) {
        error = "bad value '" + v + "' for " + key + " (want an integer in [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "])";
        return false;
      }
      return true;
    };
    std::uint64_t n = 0;
    std::string v;
    if (key == "--help" || key == "-h") {
      if (!flag()) return false;
      o.help = true;
    } else if (key == "--heap") {
      if (!need(v)) return false;
      if (v == "mixed")
        o.kind = shape::mixed;
      else if (v == "trees")
        o.kind = shape::trees;
      else if (v == "graph")
        o.kind = shape::graph;
      else if (v == "lists")
        o.kind = shape::lists;
      else if (v == "arrays")
        o.kind = shape::arrays;
      else {
        error = "unknown heap shape '" + v + "' (mixed, trees, graph, lists, arrays)";
        return false;
      }
    } else if (key == "--objects") {
      if (!need(v)) return false;
      if (!parse_u64(v, n) || n == 0) {
        error = "bad value '" + v + "' for --objects (want a positive integer)";
        return false;
      }
      if (n > max_objects()) {
        error = "--objects=" + v + " does not fit in memory (at most " +
                std::to_string(max_objects()) + " on this machine)";
        return false;
      }
      o.objects = n;
    } else if (key == "--input") {
      if (!need(o.input)) return false;
      if (o.input.empty()) {
        error = "--input needs a file name";
        return false;
      }
    } else if (key == "--seed") {
      if (!number(0, UINT64_MAX, o.seed)) return false;
    } else if (key == "--workers") {
      if (!number(1, 256, n)) return false;
      o.workers = static_cast<unsigned>(n);
    } else if (key == "--mutators") {
      if (!number(0, 64, n)) return false;
      o.mutators = static_cast<unsigned>(n);
    } else if (key == "--cpu-goal") {
      if (!need(v)) return false;
      errno = 0;
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (errno != 0 || end == v.c_str() || *end != '\0' || !(d > 0.0 && d <= 1.0)) {
        error = "bad value '" + v + "' for --cpu-goal (want a fraction in (0, 1])";
        return false;
      }
      o.cpu_goal = d;
    } else if (key == "--root-scan") {
      if (!need(v)) return false;
      if (v == "workers")
        o.roots = root_scan_choice::workers;
      else if (v == "coordinator")
        o.roots = root_scan_choice::coordinator;
      else if (v == "both")
        o.roots = root_scan_choice::both;
      else {
        error = "unknown root-scan mode '" + v + "' (workers, coordinator, both)";
        return false;
      }
    } else if (key == "--sequential") {
      if (!need(v)) return false;
      if (v == "none")
        o.sequential = seq_choice::none;
      else if (v == "plain")
        o.sequential = seq_choice::plain;
      else if (v == "prefetch")
        o.sequential = seq_choice::prefetch;
      else if (v == "both")
        o.sequential = seq_choice::both;
      else {
        error = "unknown --sequential choice '" + v + "' (prefetch, plain, both, none)";
        return false;
      }
    } else if (key == "--no-barrier") {
      if (!flag()) return false;
      o.barrier = false;
    } else if (key == "--no-prefetch") {
      if (!flag()) return false;
      o.prefetch = false;
    } else if (key == "--json") {
      if (!flag()) return false;
      o.json = true;
    } else if (key == "--quiet") {
      if (!flag()) return false;
      o.progress = false;
    } else {
      error = "unknown option '" + a + "' (try --help)";
      return false;
    }
  }
  return true;
}

namespace {

struct run_report {
  const char* mode;
  mark_result r;
  check_result c;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      o += '\\';
      o += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", ch);
      o += b;
    } else {
      o += ch;
    }
  }
  return o;
}

double mib(std::uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); }

void print_human(std::FILE* out, const run_report& rr, unsigned mutators) {
  const mark_result& r = rr.r;
  std::fprintf(out, "  [root scan: %s]\n", rr.mode);
  std::fprintf(out,
               "  marked       %llu objects, %.1f MiB in %.3f s (%.2f M objects/s, %.0f MB/s)\n",
               static_cast<unsigned long long>(r.marked_objects), mib(r.marked_bytes), r.seconds,
               r.seconds > 0 ? static_cast<double>(r.marked_objects) / r.seconds / 1e6 : 0.0,
               r.seconds > 0 ? static_cast<double>(r.marked_bytes) / r.seconds / 1e6 : 0.0);
  std::fprintf(out, "  phases       root scan %.3f s, concurrent %.3f s, termination %.3f s\n",
               r.root_scan_seconds, r.concurrent_seconds, r.termination_seconds);
  std::uint64_t total = 0;
  for (const auto& w : r.workers) total += w.objects;
  std::fprintf(out, "  workers     ");
  for (std::size_t i = 0; i < r.workers.size(); ++i)
    std::fprintf(
        out, " #%zu %.1f%%%s", i,
        total ? 100.0 * static_cast<double>(r.workers[i].objects) / static_cast<double>(total)
              : 0.0,
        r.workers[i].fractional ? " (fractional)" : "");
  std::fprintf(out, "  [%u dedicated%s while mutators run]\n", r.dedicated,
               r.has_fractional
                   ? (" + 1 fractional at " +
                      std::to_string(static_cast<int>(r.fractional_goal * 100 + 0.5)) + "%")
                         .c_str()
                   : "");
  std::fprintf(out,
               "  root jobs    %llu concurrent (global blocks + stacks) + %llu at termination\n",
               static_cast<unsigned long long>(r.root_jobs),
               static_cast<unsigned long long>(r.termination_jobs));
  std::fprintf(out, "  buffers      %llu work buffers used; termination waits %llu, parks %llu\n",
               static_cast<unsigned long long>(r.buffers), static_cast<unsigned long long>(r.waits),
               static_cast<unsigned long long>(r.parks));
  if (mutators > 0)
    std::fprintf(out,
                 "  mutators     %u: %llu steps, %llu black allocations, %llu hiding moves, %llu "
                 "barrier shades, %llu buffer flushes\n",
                 mutators, static_cast<unsigned long long>(r.mutator_steps),
                 static_cast<unsigned long long>(r.mutator_allocs),
                 static_cast<unsigned long long>(r.hiding_moves),
                 static_cast<unsigned long long>(r.barrier_shades),
                 static_cast<unsigned long long>(r.barrier_flushes));
  if (rr.c.complete())
    std::fprintf(out, "  verdict      complete (%llu reachable objects, all marked)\n",
                 static_cast<unsigned long long>(rr.c.reachable));
  else
    std::fprintf(out, "  verdict      INCOMPLETE: %llu of %llu reachable objects unmarked\n",
                 static_cast<unsigned long long>(rr.c.unmarked),
                 static_cast<unsigned long long>(rr.c.reachable));
}

void print_json_run(std::FILE* out, const run_report& rr) {
  const mark_result& r = rr.r;
  std::fprintf(
      out,
      "{\"root_scan\":\"%s\",\"seconds\":%.6f,\"root_scan_seconds\":%.6f,"
      "\"concurrent_seconds\":%.6f,\"termination_seconds\":%.6f,"
      "\"marked_objects\":%llu,\"marked_bytes\":%llu,\"objects_per_second\":%.1f,"
      "\"mb_per_second\":%.1f,\"dedicated\":%u,\"fractional_goal\":%.3f,"
      "\"root_jobs\":%llu,\"termination_root_jobs\":%llu,\"buffers\":%llu,"
      "\"waits\":%llu,\"parks\":%llu,\"mutator_steps\":%llu,\"mutator_allocs\":%llu,"
      "\"hiding_moves\":%llu,\"barrier_shades\":%llu,\"barrier_flushes\":%llu,"
      "\"reachable\":%llu,\"unmarked_reachable\":%llu,\"verdict\":\"%s\",\"workers\":[",
      rr.mode, r.seconds, r.root_scan_seconds, r.concurrent_seconds, r.termination_seconds,
      static_cast<unsigned long long>(r.marked_objects),
      static_cast<unsigned long long>(r.marked_bytes),
      r.seconds > 0 ? static_cast<double>(r.marked_objects) / r.seconds : 0.0,
      r.seconds > 0 ? static_cast<double>(r.marked_bytes) / r.seconds / 1e6 : 0.0, r.dedicated,
      r.has_fractional ? r.fractional_goal : 0.0, static_cast<unsigned long long>(r.root_jobs),
      static_cast<unsigned long long>(r.termination_jobs),
      static_cast<unsigned long long>(r.buffers), static_cast<unsigned long long>(r.waits),
      static_cast<unsigned long long>(r.parks), static_cast<unsigned long long>(r.mutator_steps),
      static_cast<unsigned long long>(r.mutator_allocs),
      static_cast<unsigned long long>(r.hiding_moves),
      static_cast<unsigned long long>(r.barrier_shades),
      static_cast<unsigned long long>(r.barrier_flushes),
      static_cast<unsigned long long>(rr.c.reachable),
      static_cast<unsigned long long>(rr.c.unmarked), rr.c.complete() ? "complete" : "incomplete");
  for (std::size_t i = 0; i < r.workers.size(); ++i)
    std::fprintf(out, "%s{\"objects\":%llu,\"items\":%llu,\"roots\":%llu,\"fractional\":%s}",
                 i ? "," : "", static_cast<unsigned long long>(r.workers[i].objects),
                 static_cast<unsigned long long>(r.workers[i].items),
                 static_cast<unsigned long long>(r.workers[i].roots),
                 r.workers[i].fractional ? "true" : "false");
  std::fprintf(out, "]}");
}

}  // namespace

int cli_main(int argc, const char* const* argv, std::FILE* out, std::FILE* err) {
  options o;
  std::string error;
  if (!parse_options(argc, argv, o, error)) {
    std::fprintf(err, "workq-mark: error: %s\n", error.c_str());
    return 2;
  }
  if (o.help) {
    std::fputs(usage(), out);
    return 0;
  }
  if (o.workers == 0) o.workers = std::max(1u, std::thread::hardware_concurrency());

  try {
    std::unique_ptr<heap> h;
    const std::size_t headroom = std::size_t{64} << 20;  // per mutator, for black allocation
    const std::size_t room = headroom * o.mutators * (o.roots == root_scan_choice::both ? 2 : 1);
    if (!o.input.empty()) {
      h = load_heap_file(o.input, room, o.progress && !o.json);
    } else {
      heap_spec spec;
      spec.kind = o.kind;
      spec.objects = o.objects;
      spec.seed = o.seed;
      spec.mutator_headroom = room;
      spec.progress = o.progress;
      h = build_heap(spec);
    }

    seq_result plain{}, pref{};
    const bool do_plain = o.sequential == seq_choice::plain || o.sequential == seq_choice::both;
    const bool do_pref = o.sequential == seq_choice::prefetch || o.sequential == seq_choice::both;
    if (do_plain) {
      plain = mark_sequential_plain(*h);
      h->clear_marks();
    }
    if (do_pref) {
      pref = mark_sequential_prefetch(*h);
      h->clear_marks();
    }

    std::vector<run_report> runs;
    std::vector<std::uint64_t> first_marks;
    bool sets_equal = true, compared = false;
    const auto one = [&](root_scan mode, const char* name) {
      mark_config cfg;
      cfg.workers = o.workers;
      cfg.mutators = o.mutators;
      cfg.cpu_goal = o.cpu_goal;
      cfg.roots = mode;
      cfg.barrier = o.barrier;
      cfg.prefetch = o.prefetch;
      cfg.seed = o.seed;
      run_report rr{name, run_mark(*h, cfg), {}};
      rr.c = check_complete(*h, rr.r.final_roots);
      if (o.mutators == 0) {
        auto snap = h->snapshot_marks();
        if (first_marks.empty()) {
          first_marks = std::move(snap);
        } else {
          compared = true;
          sets_equal = snap == first_marks;
        }
      }
      runs.push_back(std::move(rr));
      h->clear_marks();
    };
    if (o.roots != root_scan_choice::workers) one(root_scan::coordinator, "coordinator");
    if (o.roots != root_scan_choice::coordinator) one(root_scan::workers, "workers");

    bool complete = true;
    for (const auto& rr : runs) complete = complete && rr.c.complete();
    const std::string src = o.input.empty() ? std::string(shape_name(o.kind)) : o.input;

    if (o.json) {
      std::fprintf(out,
                   "{\"heap\":\"%s\",\"objects\":%llu,\"heap_bytes\":%llu,\"globals\":%zu,"
                   "\"seed\":%llu,\"workers\":%u,\"mutators\":%u,\"barrier\":%s,\"prefetch\":%s,",
                   json_escape(src).c_str(), static_cast<unsigned long long>(h->objects()),
                   static_cast<unsigned long long>(h->object_bytes_total()), h->nglobals(),
                   static_cast<unsigned long long>(o.seed), o.workers, o.mutators,
                   o.barrier ? "true" : "false", o.prefetch ? "true" : "false");
      std::fprintf(out, "\"sequential_plain_seconds\":");
      if (do_plain)
        std::fprintf(out, "%.6f,", plain.seconds);
      else
        std::fprintf(out, "null,");
      std::fprintf(out, "\"sequential_prefetch_seconds\":");
      if (do_pref)
        std::fprintf(out, "%.6f,", pref.seconds);
      else
        std::fprintf(out, "null,");
      std::fprintf(out, "\"runs\":[");
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (i) std::fputc(',', out);
        print_json_run(out, runs[i]);
      }
      std::fprintf(out, "],\"marked_sets_equal\":%s,\"verdict\":\"%s\"}\n",
                   compared ? (sets_equal ? "true" : "false") : "null",
                   complete && sets_equal ? "complete" : "incomplete");
    } else {
      std::fprintf(
          out, "workq-mark: heap %s: %llu objects, %.1f MiB, %zu global slots; seed %llu\n",
          src.c_str(), static_cast<unsigned long long>(h->objects()), mib(h->object_bytes_total()),
          h->nglobals(), static_cast<unsigned long long>(o.seed));
      std::fprintf(out, "  config       %u workers, %u mutator%s, write barrier %s%s\n", o.workers,
                   o.mutators, o.mutators == 1 ? "" : "s",
                   o.barrier ? "hybrid (Yuasa + Dijkstra while grey), black allocation"
                             : "OFF (--no-barrier: known-bad debug run)",
                   o.prefetch ? "" : ", no prefetch FIFO");
      for (const auto& rr : runs) print_human(out, rr, o.mutators);
      if (compared)
        std::fprintf(out,
                     "  root scan    coordinator %.3f s total (%.3f s root phase) vs workers %.3f "
                     "s; marked sets %s\n",
                     runs[0].r.seconds, runs[0].r.root_scan_seconds, runs[1].r.seconds,
                     sets_equal ? "identical" : "DIFFER");
      if (do_plain || do_pref) {
        std::fprintf(out, "  sequential   (context, no mutators)");
        if (do_plain)
          std::fprintf(out, " plain DFS %.3f s (%llu objects)", plain.seconds,
                       static_cast<unsigned long long>(plain.objects));
        if (do_pref)
          std::fprintf(out, "%s prefetching DFS %.3f s (%llu objects)", do_plain ? "," : "",
                       pref.seconds, static_cast<unsigned long long>(pref.objects));
        std::fputc('\n', out);
      }
      std::fprintf(out, "verdict: %s\n", complete && sets_equal ? "complete" : "INCOMPLETE");
    }
    return complete && sets_equal ? 0 : 1;
  } catch (const user_error& e) {
    std::fprintf(err, "workq-mark: error: %s\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(err, "workq-mark: error: out of memory\n");
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(err, "workq-mark: error: %s\n", e.what());
    return 3;
  }
}

}  // namespace marker
WORKQ_NAMESPACE_END
