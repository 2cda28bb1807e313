// verify/lfstack_verify.cpp — Relacy suites for workq::lfstack.
//
// Properties
//   * ownership: a node popped by one thread is never popped by another before
//     it is pushed again (each node carries a plain `owner` mark that the
//     suite checks on every pop: USER ASSERT FAILED on duplicate ownership);
//   * conservation: at the quiescent end every node is on the stack exactly
//     once (no node lost, none duplicated, no cycle);
//   * publication: a node's payload (sync::var, race-checked) written before
//     push is read after pop by another thread without a data race, and the
//     value read is the last one written (pairs (1)/(2)/(3) of lfstack.hpp).
//
// Suites
//   reuse:   N nodes start on the stack; each thread pops two, pushes the
//            first back, pops again, pushes everything back (the ABA shape:
//            a node is popped, re-pushed and popped again while another
//            thread's pop may be stalled between reading head and its CAS).
//   handoff: thread 0 writes payloads into fresh nodes and pushes them; the
//            other threads pop and read the payloads.
// Mutants: untagged_head (ABA) -> duplicate ownership / lost node;
//          relaxed_publish -> DATA RACE on the payload.
#include <cstdint>

#include "harness.hpp"
#include "workq/lfstack.hpp"

namespace {

using workq::lfnode;
using workq::lfstack;
using workq_verify::check;
using workq_verify::mutant;

struct node : lfnode {
  workq::sync::var<std::uint64_t> payload;  // index * 1000 + version; race-checked
  int owner = -1;                           // test bookkeeping: thread holding it, or -1
};

inline constexpr std::uint64_t stride = 1000;

template <unsigned Threads, unsigned Nodes, rl::test_result_e Expected = rl::test_result_success>
struct reuse_suite : rl::test_suite<reuse_suite<Threads, Nodes, Expected>, Threads, Expected> {
  lfstack stack;
  node nodes[Nodes];

  void before() {
    for (unsigned i = 0; i < Nodes; ++i) {
      nodes[i].payload.store(i * stride);
      stack.push(&nodes[i]);
    }
  }

  node* take(unsigned t) {
    node* n = static_cast<node*>(stack.pop());
    if (n == nullptr) return nullptr;
    check(n >= nodes && n < nodes + Nodes, "pop returned a foreign pointer");
    check(n->owner == -1, "node popped while another thread owns it");
    n->owner = static_cast<int>(t);
    const std::uint64_t v = n->payload.load();
    check(v / stride == static_cast<std::uint64_t>(n - nodes), "payload of another node");
    return n;
  }

  void give(node* n, unsigned t) {
    if (n == nullptr) return;
    check(n->owner == static_cast<int>(t), "pushing a node the thread does not own");
    n->payload.store(n->payload.load() + 1);
    n->owner = -1;
    stack.push(n);
  }

  void thread(unsigned t) {
    node* a = take(t);
    node* b = take(t);
    give(a, t);
    node* c = take(t);
    give(b, t);
    give(c, t);
  }

  void after() {
    bool seen[Nodes] = {};
    unsigned count = 0;
    while (lfnode* p = stack.pop()) {
      node* n = static_cast<node*>(p);
      check(n >= nodes && n < nodes + Nodes, "foreign node on the stack");
      const unsigned i = static_cast<unsigned>(n - nodes);
      check(!seen[i], "node on the stack twice (cycle or duplicate)");
      check(n->owner == -1, "node on the stack still owned");
      seen[i] = true;
      if (++count > Nodes) break;
    }
    check(count == Nodes, "node lost");
  }
};

template <unsigned Threads, unsigned Nodes, rl::test_result_e Expected = rl::test_result_success>
struct handoff_suite : rl::test_suite<handoff_suite<Threads, Nodes, Expected>, Threads, Expected> {
  lfstack stack;
  node nodes[Nodes];
  int popped[Nodes] = {};

  void thread(unsigned t) {
    if (t == 0) {
      for (unsigned i = 0; i < Nodes; ++i) {
        nodes[i].payload.store(i * stride + 7);  // written before push ...
        stack.push(&nodes[i]);
      }
    } else {
      for (unsigned k = 0; k < Nodes; ++k) {
        node* n = static_cast<node*>(stack.pop());
        if (n == nullptr) continue;
        const unsigned i = static_cast<unsigned>(n - nodes);
        check(i < Nodes, "pop returned a foreign pointer");
        check(popped[i]++ == 0, "node popped twice");
        check(n->payload.load() == i * stride + 7, "stale payload");  // ... read after pop
      }
    }
  }

  void after() {
    while (lfnode* p = stack.pop()) {
      const unsigned i = static_cast<unsigned>(static_cast<node*>(p) - nodes);
      check(i < Nodes, "foreign node on the stack");
      check(popped[i]++ == 0, "node popped twice");
    }
    for (unsigned i = 0; i < Nodes; ++i) check(popped[i] == 1, "node not popped exactly once");
  }
};

}  // namespace

// Full search of `reuse` is out of reach (6 stack operations per thread:
// > 10^9 interleavings), so it runs bounded + random; `handoff` is exhaustive
// for 2 threads.
int main(int argc, char** argv) {
  workq_verify::harness h(argc, argv);
  h.bound_and_random<reuse_suite<2, 3>>("lfstack.reuse.2t.3nodes", 4, 200000);
  h.bound_and_random<reuse_suite<3, 3>>("lfstack.reuse.3t.3nodes", 2, 200000);
  h.full<handoff_suite<2, 3>>("lfstack.handoff.2t.3nodes");
  h.bound_and_random<handoff_suite<3, 3>>("lfstack.handoff.3t.3nodes", 3, 100000);

  // Known-bad variants: each must be caught.
  h.bound<reuse_suite<2, 3, rl::test_result_user_assert_failed>>(
      "lfstack.mutant.untagged_head.reuse.2t", 3, mutant::untagged_head);
  h.random<reuse_suite<3, 3, rl::test_result_user_assert_failed>>(
      "lfstack.mutant.untagged_head.reuse.3t", 100000, mutant::untagged_head);
  h.full<handoff_suite<2, 3, rl::test_result_data_race>>(
      "lfstack.mutant.relaxed_publish.handoff.2t", mutant::relaxed_publish);
  h.bound<reuse_suite<2, 3, rl::test_result_data_race>>("lfstack.mutant.relaxed_publish.reuse.2t",
                                                        3, mutant::relaxed_publish);
  return h.finish();
}
