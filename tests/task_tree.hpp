// tests/task_tree.hpp — synthetic task trees for the drain tests.
//
// A task_tree is a forest in BFS numbering: nodes 0..roots()-1 are the roots
// and the children of node i are the contiguous ids [first[i], first[i+1]).
// Scanning node i "spawns" its children (pushes them into the worker cache),
// so draining from the roots visits every node exactly once when the work
// distribution is correct. Header-only, no GoogleTest dependency, so the
// benchmarks can use it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace workq_test {

/// xorshift64: a tiny seeded RNG, cheap enough to call per item.
struct xorshift {
  std::uint64_t s;
  explicit xorshift(std::uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  /// Uniform-ish in [0, n) (n > 0).
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

class task_tree {
 public:
  /// `nroots` complete binary trees of the given depth (depth 0: roots only).
  static task_tree binary(unsigned depth, std::uint32_t nroots = 1) {
    task_tree t(nroots);
    std::vector<unsigned> level(nroots, 0);
    for (std::size_t i = 0; i < level.size(); ++i) {
      const std::uint32_t f = level[i] < depth ? 2 : 0;
      t.add_children(i, f);
      for (std::uint32_t k = 0; k < f; ++k) level.push_back(level[i] + 1);
    }
    return t;
  }

  /// Random fan-out 0..max_fanout per node (>= 1 in the first three levels so
  /// the tree does not die out early), capped at max_nodes nodes in all.
  static task_tree random(std::uint32_t nroots, std::size_t max_nodes, unsigned max_fanout,
                          std::uint64_t seed) {
    task_tree t(nroots);
    xorshift rng(seed);
    std::vector<unsigned> level(nroots, 0);
    for (std::size_t i = 0; i < level.size(); ++i) {
      std::uint64_t f = level[i] < 3 ? 1 + rng.below(max_fanout) : rng.below(max_fanout + 1u);
      if (level.size() + f > max_nodes) f = max_nodes > level.size() ? max_nodes - level.size() : 0;
      t.add_children(i, static_cast<std::uint32_t>(f));
      for (std::uint64_t k = 0; k < f; ++k) level.push_back(level[i] + 1);
    }
    return t;
  }

  [[nodiscard]] std::size_t size() const { return first_.size() - 1; }
  [[nodiscard]] std::uint32_t roots() const { return nroots_; }
  [[nodiscard]] std::uint32_t child_begin(std::uint64_t i) const { return first_[i]; }
  [[nodiscard]] std::uint32_t child_end(std::uint64_t i) const { return first_[i + 1]; }
  [[nodiscard]] std::uint32_t fanout(std::uint64_t i) const { return first_[i + 1] - first_[i]; }

  /// Units a scan of node i reports in the tests: 1 + its fan-out.
  [[nodiscard]] std::uint64_t units(std::uint64_t i) const { return 1u + fanout(i); }
  /// Sum of units() over all nodes.
  [[nodiscard]] std::uint64_t total_units() const {
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < size(); ++i) u += units(i);
    return u;
  }

 private:
  explicit task_tree(std::uint32_t nroots) : nroots_(nroots) {
    first_.push_back(nroots);  // first[0]: children of node 0 start after the roots
  }
  // Called in BFS order: node i's children start where node i-1's ended.
  void add_children(std::size_t i, std::uint32_t f) {
    (void)i;
    first_.push_back(first_.back() + f);
  }

  std::uint32_t nroots_;
  std::vector<std::uint32_t> first_;
};

}  // namespace workq_test
