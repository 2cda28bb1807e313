// tests/test_marker.cpp — the reference concurrent marker (src/marker): heap
// shapes x workers x mutators, both root-scan modes, the completeness checker
// and the no-barrier mutant, the heap-file loader, and workq-mark's errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "marker/cli.hpp"
#include "marker/heap.hpp"
#include "marker/marker.hpp"

namespace {

using namespace workq::marker;

std::unique_ptr<heap> make(shape s, std::uint64_t n, std::uint64_t seed = 1,
                           std::size_t headroom = 0) {
  heap_spec spec;
  spec.kind = s;
  spec.objects = n;
  spec.seed = seed;
  spec.mutator_headroom = headroom;
  return build_heap(spec);
}

mark_config cfg_of(unsigned workers, unsigned mutators, root_scan rs = root_scan::workers) {
  mark_config c;
  c.workers = workers;
  c.mutators = mutators;
  c.roots = rs;
  c.seed = 7 + workers * 31 + mutators;
  return c;
}

constexpr shape all_shapes[] = {shape::mixed, shape::trees, shape::graph, shape::lists,
                                shape::arrays};

// Without mutators: the parallel marker marks exactly the reachable set, the
// same set (and count) as both sequential markers, for every shape and 1..8
// workers.
TEST(marker, EveryShapeWorkersNoMutators) {
  for (shape s : all_shapes) {
    auto h = make(s, 60'000, 3);
    const seq_result plain = mark_sequential_plain(*h);
    const auto seq_marks = h->snapshot_marks();
    h->clear_marks();
    const seq_result pref = mark_sequential_prefetch(*h);
    EXPECT_EQ(h->snapshot_marks(), seq_marks) << shape_name(s);
    EXPECT_EQ(plain.objects, pref.objects);
    h->clear_marks();
    for (unsigned w : {1u, 2u, 3u, 8u}) {
      const mark_result r = run_mark(*h, cfg_of(w, 0));
      const check_result c = check_complete(*h, r.final_roots);
      EXPECT_TRUE(c.complete()) << shape_name(s) << " workers=" << w;
      EXPECT_EQ(c.reachable, plain.objects) << shape_name(s);
      EXPECT_EQ(r.marked_objects, plain.objects) << shape_name(s) << " workers=" << w;
      EXPECT_EQ(h->snapshot_marks(), seq_marks) << shape_name(s) << " workers=" << w;
      std::uint64_t scanned = 0;
      for (const auto& ws : r.workers) scanned += ws.objects;
      EXPECT_EQ(scanned, plain.objects) << "each object scanned exactly once";
      EXPECT_EQ(r.root_jobs, h->global_blocks());
      h->clear_marks();
    }
  }
}

// Large arrays are split into oblets; every element is still marked.
TEST(marker, LargeArraysAsOblets) {
  auto h = make(shape::arrays, 200'000, 5);  // 4 arrays of ~50k fields: 4 oblets each
  const mark_result r = run_mark(*h, cfg_of(4, 0));
  const check_result c = check_complete(*h, r.final_roots);
  EXPECT_TRUE(c.complete());
  EXPECT_EQ(c.reachable, h->objects());
  std::uint64_t items = 0, objects = 0;
  for (const auto& ws : r.workers) {
    items += ws.items;
    objects += ws.objects;
  }
  EXPECT_GT(items, objects) << "oblets were scanned as separate items";
}

// Both root-scan modes give the same marked set (no mutators).
TEST(marker, RootScanModesSameMarkedSet) {
  for (shape s : {shape::mixed, shape::graph}) {
    auto h = make(s, 80'000, 11);
    for (unsigned w : {1u, 4u}) {
      const mark_result a = run_mark(*h, cfg_of(w, 0, root_scan::coordinator));
      const auto marks_a = h->snapshot_marks();
      EXPECT_TRUE(check_complete(*h, a.final_roots).complete());
      h->clear_marks();
      const mark_result b = run_mark(*h, cfg_of(w, 0, root_scan::workers));
      EXPECT_EQ(h->snapshot_marks(), marks_a) << shape_name(s) << " workers=" << w;
      EXPECT_EQ(a.marked_objects, b.marked_objects);
      h->clear_marks();
    }
  }
}

// With 1-4 mutators under the hybrid barrier the verdict is always complete.
TEST(marker, MutatorsUnderBarrierComplete) {
  struct combo {
    shape s;
    unsigned workers, mutators;
    root_scan rs;
  };
  const combo combos[] = {
      {shape::mixed, 1, 1, root_scan::workers},     {shape::mixed, 2, 2, root_scan::workers},
      {shape::trees, 4, 3, root_scan::workers},     {shape::graph, 3, 4, root_scan::coordinator},
      {shape::lists, 2, 1, root_scan::coordinator}, {shape::arrays, 8, 2, root_scan::workers},
      {shape::mixed, 8, 4, root_scan::coordinator}, {shape::trees, 1, 4, root_scan::workers},
  };
  for (const combo& k : combos) {
    auto h = make(k.s, 50'000, 13, std::size_t{8} << 20);
    mark_config c = cfg_of(k.workers, k.mutators, k.rs);
    c.warmup_steps = 200;
    const mark_result r = run_mark(*h, c);
    const check_result cr = check_complete(*h, r.final_roots);
    EXPECT_TRUE(cr.complete()) << shape_name(k.s) << " w=" << k.workers << " m=" << k.mutators
                               << ": " << cr.unmarked << " unmarked of " << cr.reachable;
    EXPECT_GT(r.mutator_steps, 0u);
    EXPECT_EQ(r.termination_jobs, k.mutators);
  }
}

// The CPU goal: 25% of the workers while mutators run, split into dedicated
// workers plus one fractional worker (Go's split).
TEST(marker, CpuGoalSplit) {
  mark_config c;
  c.workers = 8;
  c.mutators = 1;
  EXPECT_EQ(split_goal(c).first, 2u);
  EXPECT_DOUBLE_EQ(split_goal(c).second, 0.0);
  c.workers = 2;
  EXPECT_EQ(split_goal(c).first, 0u);
  EXPECT_DOUBLE_EQ(split_goal(c).second, 0.5);
  c.workers = 6;
  EXPECT_EQ(split_goal(c).first, 1u);
  EXPECT_NEAR(split_goal(c).second, 0.5, 1e-9);
  c.mutators = 0;
  EXPECT_EQ(split_goal(c).first, 6u);
  c.cpu_goal = 0.25;
  c.workers = 1;
  EXPECT_EQ(split_goal(c).first, 0u);
  EXPECT_NEAR(split_goal(c).second, 0.25, 1e-9);
}

// The known-bad run: without the write barrier the mutators' hiding move
// (white A's child moved into black B) must be caught by the checker on at
// least one of a fixed set of seeds (bounded in time).
TEST(marker, NoBarrierMutantCaught) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> caught;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto h = make(shape::mixed, 150'000, seed, std::size_t{8} << 20);
    mark_config c = cfg_of(1, 1);
    c.cpu_goal = 0.5;
    c.barrier = false;
    c.seed = seed;
    c.warmup_steps = 100;
    const mark_result r = run_mark(*h, c);
    const check_result cr = check_complete(*h, r.final_roots);
    if (!cr.complete())
      caught.push_back("seed " + std::to_string(seed) + ": " + std::to_string(cr.unmarked) +
                       " unmarked");
    if (caught.size() >= 2 || std::chrono::steady_clock::now() - t0 > std::chrono::seconds(20))
      break;
  }
  for (const auto& s : caught) std::printf("  no-barrier mutant caught: %s\n", s.c_str());
  EXPECT_FALSE(caught.empty()) << "the checker never caught the no-barrier mutant";
}

// ------------------------------------------------------------------ loader

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(marker_loader, ValidFile) {
  const std::string p = write_file("ok.heap",
                                   "# a small heap\n"
                                   "workq-heap 1 6\n"
                                   "0 2 1 2\n"
                                   "1 1 3   # comment\n"
                                   "\n"
                                   "2 0\n"
                                   "3 2 0 -1\n"
                                   "4 1 5\n"
                                   "5 0\n"
                                   "root 0\n");
  auto h = load_heap_file(p);
  EXPECT_EQ(h->objects(), 6u);
  const mark_result r = run_mark(*h, cfg_of(2, 0));
  const check_result c = check_complete(*h, r.final_roots);
  EXPECT_TRUE(c.complete());
  EXPECT_EQ(c.reachable, 4u);  // 0,1,2,3; 4 and 5 are garbage
  EXPECT_EQ(r.marked_objects, 4u);
}

TEST(marker_loader, MalformedFilesOneLineErrorWithFileAndLine) {
  struct bad {
    const char* text;
    const char* where;  // expected "file:LINE:" suffix
  };
  const bad cases[] = {
      {"", ":1:"},
      {"workq-heap 2 3\n", ":1:"},
      {"hello\n", ":1:"},
      {"workq-heap 1 2\n0 1 1\n1 1 7\n", ":3:"},
      {"workq-heap 1 2\n0 2 1\n", ":2:"},
      {"workq-heap 1 2\n0 0\n0 0\n", ":3:"},
      {"workq-heap 1 2\n0 0\nroot 9\n", ":3:"},
      {"workq-heap 1 2\n0 0\n", ":2:"},  // object 1 never defined
      {"workq-heap 1 2\n0 x\n", ":2:"},
      {"workq-heap 1 99999999999999\n", ":1:"},
  };
  int i = 0;
  for (const bad& b : cases) {
    const std::string p = write_file("bad" + std::to_string(i++) + ".heap", b.text);
    try {
      (void)load_heap_file(p);
      ADD_FAILURE() << "accepted: " << b.text;
    } catch (const user_error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_NE(msg.find(p + b.where), std::string::npos) << msg << " (want " << b.where << ")";
    }
  }
}

TEST(marker_loader, UnreadableFile) {
  EXPECT_THROW((void)load_heap_file("/nonexistent/dir/heap.txt"), user_error);
}

// --------------------------------------------------------------------- CLI

struct cli_run {
  int rc;
  std::string out, err;
};

cli_run run_cli(std::vector<const char*> args) {
  args.insert(args.begin(), "workq-mark");
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const int rc = cli_main(static_cast<int>(args.size()), args.data(), out, err);
  const auto slurp = [](std::FILE* f) {
    std::string s;
    std::rewind(f);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
  };
  return {rc, slurp(out), slurp(err)};
}

void expect_one_line_error(const cli_run& r, int rc, const char* needle) {
  EXPECT_EQ(r.rc, rc) << r.err;
  EXPECT_EQ(r.err.rfind("workq-mark: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(marker_cli, BadOptions) {
  expect_one_line_error(run_cli({"--bogus"}), 2, "unknown option");
  expect_one_line_error(run_cli({"--workers=0"}), 2, "--workers");
  expect_one_line_error(run_cli({"--workers=abc"}), 2, "--workers");
  expect_one_line_error(run_cli({"--workers"}), 2, "needs a value");
  expect_one_line_error(run_cli({"--mutators=1000"}), 2, "--mutators");
  expect_one_line_error(run_cli({"--cpu-goal=1.5"}), 2, "--cpu-goal");
  expect_one_line_error(run_cli({"--cpu-goal=0"}), 2, "--cpu-goal");
  expect_one_line_error(run_cli({"--heap=cube"}), 2, "heap shape");
  expect_one_line_error(run_cli({"--root-scan=nobody"}), 2, "root-scan");
  expect_one_line_error(run_cli({"--json=yes"}), 2, "takes no value");
  expect_one_line_error(run_cli({"--objects=-5"}), 2, "--objects");
  expect_one_line_error(run_cli({"--objects=0"}), 2, "--objects");
}

TEST(marker_cli, AbsurdSizes) {
  expect_one_line_error(run_cli({"--objects=999999999999999"}), 2, "does not fit in memory");
  expect_one_line_error(run_cli({"--objects=99999999999999999999999"}), 2, "--objects");
}

TEST(marker_cli, UnreadableAndMalformedFiles) {
  expect_one_line_error(run_cli({"--input=/nonexistent/heap.txt"}), 3, "cannot open");
  const std::string p = write_file("cli_bad.heap", "workq-heap 1 1\n0 1 5\n");
  expect_one_line_error(run_cli({"--input", p.c_str()}), 3, (p + ":2:").c_str());
}

TEST(marker_cli, HelpAndSmallRun) {
  const cli_run h = run_cli({"--help"});
  EXPECT_EQ(h.rc, 0);
  EXPECT_NE(h.out.find("usage: workq-mark"), std::string::npos);
  const cli_run r = run_cli({"--objects=20k", "--workers=2", "--mutators=1", "--quiet",
                             "--root-scan=both", "--sequential=both"});
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: complete"), std::string::npos) << r.out;
  const cli_run j =
      run_cli({"--objects=20k", "--workers=2", "--mutators=0", "--json", "--root-scan=both"});
  EXPECT_EQ(j.rc, 0) << j.err;
  EXPECT_NE(j.out.find("\"marked_sets_equal\":true"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"verdict\":\"complete\""), std::string::npos) << j.out;
}

}  // namespace
