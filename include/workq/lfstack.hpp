// workq/lfstack.hpp — intrusive lock-free LIFO with an ABA tag in the head word.
//
// Descends from the Go runtime's lfstack (runtime/lfstack.go, tagptr_64bit.go).
//
// Contract
//   * A default-constructed lfstack is empty. The stack is intrusive: a node
//     type derives from lfnode (Go: "nodes must embed lfnode as the first
//     field"); the stack never allocates.
//   * push(n) relinquishes ownership of n: from then on any thread may pop it.
//     pop() returns a node whose ownership passes to the caller, or nullptr.
//   * Nodes live in TYPE-STABLE memory: a node's storage must stay readable as
//     an lfnode for as long as any thread may be inside pop() on any stack it
//     was ever pushed to. pop() reads `next` of a node that another thread may
//     already have popped (and be refilling, or have pushed elsewhere); that
//     read is a harmless race *because* the memory is still an lfnode, and the
//     CAS that follows fails because the head's tag moved. So no hazard
//     pointers or epochs are needed; the price is that nodes are freed only at
//     a quiescent point (see buffer_pool::release, Go: freeSomeWbufs).
//
// Head word and bit budget (64-bit targets)
//   head = (address << (64 - addr_bits)) | (pushcnt mod 2^tag_bits)
//   addr_bits = 48 covers the x86-64 and AArch64 user address space with 4-level
//   paging (canonical lower half). Nodes are 8-byte aligned, so the address's
//   3 low zero bits are dropped too: tag_bits = 64 - 48 + 3 = 19.
//   ABA needs a pop to stall between reading the head and its CAS while the
//   same node is pushed again exactly k * 2^19 times — the same budget Go
//   accepts. An address that does not round-trip (5-level paging, a
//   misaligned node) is rejected loudly on every push (Go: lfnodeValidate).
//
// Ordering (pairs numbered)
//   (1) push's CAS is release: the node's payload and its `next` are written
//       before it and must be visible to whoever pops the node.
//   (2) pop's load of the head is acquire: pairs with (1) — directly, or
//       through the release sequence of later CASes on the head, which are all
//       read-modify-writes — so `next` and the payload are visible.
//   (3) pop's CAS is acq_rel on success and acquire on failure. Acquire: on
//       failure it returns the head we dereference in the next round (pairs
//       with (1) like (2)). Release: whoever later reads the head this pop
//       wrote (an acquire load, e.g. empty()) also sees what the popper did
//       before popping; termination_detector's snapshot relies on it to see
//       a waiter's withdraw (T2) whenever it sees that waiter's pop (T4).
//   CASes are strong: identical code on x86-64 and on AArch64 with LSE, and a
//   far smaller exhaustive search under Relacy (no spurious failures).
//   `next` itself is an atomic accessed relaxed: the race on it is by design
//   (see above), ordering comes from (1)-(3).
#pragma once

#include <cstdint>

#include "workq/sync.hpp"

WORKQ_NAMESPACE_BEGIN

static_assert(sizeof(void*) == 8, "workq::lfstack packs pointers into 64-bit words");

/// Intrusive link. Owned by the thread that holds the node; the stack touches
/// it only between push and pop.
struct lfnode {
  sync::atomic<std::uint64_t> next{0};  ///< packed head word of the node below
  sync::var<std::uint64_t> pushcnt{0};  ///< ABA tag source, bumped by each push
};

class lfstack {
 public:
  static constexpr unsigned addr_bits = 48;
  static constexpr unsigned align_bits = 3;
  static constexpr unsigned tag_bits = 64 - addr_bits + align_bits;  // 19
  static constexpr std::uint64_t tag_mask = (std::uint64_t{1} << tag_bits) - 1;

  lfstack() = default;
  lfstack(const lfstack&) = delete;
  lfstack& operator=(const lfstack&) = delete;

  static std::uint64_t pack(const lfnode* n, std::uint64_t cnt) noexcept {
    return (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(n)) << (64 - addr_bits)) |
           (cnt & tag_mask);
  }
  static lfnode* unpack(std::uint64_t v) noexcept {
    return reinterpret_cast<lfnode*>(static_cast<std::uintptr_t>((v >> tag_bits) << align_bits));
  }

  /// Go: lfnodeValidate. True when n's address survives packing.
  static bool valid_node(const lfnode* n) noexcept {
    return n != nullptr && unpack(pack(n, tag_mask)) == n;
  }
  static void validate(const lfnode* n) {
    if (!valid_node(n))
      sync::fatal("lfstack: node address not 8-byte aligned or outside the 48-bit range");
  }

  /// Push n; ownership passes to the stack.
  void push(lfnode* n) {
    const std::uint64_t cnt = n->pushcnt.load() + 1;
    n->pushcnt.store(cnt);
    const std::uint64_t desired = pack(n, WORKQ_MUTANT(untagged_head) ? 0 : cnt);
    if (unpack(desired) != n) validate(n);  // cold: reports and aborts
    std::uint64_t old = head_.load(std::memory_order_relaxed);
    for (;;) {
      n->next.store(old, std::memory_order_relaxed);
      // (1) release: publishes n's payload and n->next to the popper's (2)/(3).
      if (head_.compare_exchange_strong(
              old, desired,
              WORKQ_MUTANT(relaxed_publish) ? std::memory_order_relaxed : std::memory_order_release,
              std::memory_order_relaxed))
        return;
    }
  }

  /// Pop a node, or nullptr when the stack is empty.
  [[nodiscard]] lfnode* pop() {
    // (2) acquire: pairs with the release CAS in push (1).
    std::uint64_t old = head_.load(std::memory_order_acquire);
    for (;;) {
      if (old == 0) return nullptr;
      lfnode* n = unpack(old);
      // Racy by design: n may have been popped and re-pushed meanwhile; the
      // tag makes the CAS below fail in that case.
      const std::uint64_t next = n->next.load(std::memory_order_relaxed);
      // (3) acq_rel on success / acquire on failure: pairs with push (1);
      // on failure `old` is the new head we dereference next round.
      if (head_.compare_exchange_strong(old, next, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        return n;
    }
  }

  /// Racy emptiness hint. The default acquire pairs with push (1) and with
  /// pop (3); a caller may ask for another order (relaxed for a pure hint).
  [[nodiscard]] bool empty(std::memory_order mo = std::memory_order_acquire) const {
    return head_.load(mo) == 0;
  }

 private:
  sync::atomic<std::uint64_t> head_{0};
};

WORKQ_NAMESPACE_END
