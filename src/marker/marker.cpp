// src/marker/marker.cpp — concurrent marker, sequential markers, checker.
#include "marker/marker.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include "workq/cache.hpp"
#include "workq/drain.hpp"
#include "workq/job_counter.hpp"
#include "workq/pool.hpp"
#include "workq/termination.hpp"

WORKQ_NAMESPACE_BEGIN
namespace marker {

namespace {

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

using pool_t = buffer_pool<item>;
using cache_t = worker_cache<item>;
using detector_t = termination_detector<pool_t>;
inline constexpr unsigned stack_slots = 8;
inline constexpr unsigned wb_capacity = 256;  // Go: wbBufEntries 512 pointers
using mutator_t = mutator<heap, cache_t, detector_t, stack_slots, wb_capacity>;

// Spin, then yield, then sleep briefly: for handshake waits (a worker waiting
// for a stack scan, a mutator held at a safepoint, the coordinator waiting
// for mutators to stop). On few cores the sleep matters: the thread we wait
// for needs the CPU.
struct waiter {
  unsigned n = 0;
  void operator()() {
    ++n;
    if (n < 64)
      sync::spin_pause();
    else if (n < 256)
      sync::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
};

// A small FIFO of prefetched items in front of a LIFO mark stack.
inline constexpr unsigned prefetch_depth = 16;

struct prefetch_fifo {
  static constexpr unsigned size = prefetch_depth;
  item a[size];
  unsigned head = 0, n = 0;
  bool full() const { return n == size; }
  bool empty() const { return n == 0; }
  void push(item x) {
    if ((x & 1) == 0) prefetch(reinterpret_cast<const void*>(x));
    a[(head + n) % size] = x;
    ++n;
  }
  item pop() {
    item x = a[head];
    head = (head + 1) % size;
    --n;
    return x;
  }
};

struct seq_heap {
  heap& h;
  bool try_mark(object* p) { return h.try_mark_seq(p); }
};

// ---------------------------------------------------------------- mutators

// A mutator's program: random loads, stores, allocations and deletions over
// the pointers it legitimately holds, plus the classic hiding move (load p
// from a white object A into the stack, delete it from A, store it into a
// black object B, drop it from the stack), which only the deletion barrier
// keeps correct. Every pointer it stores was loaded from the heap or a
// global, taken from its own stack, or freshly allocated.
class mutator_program {
 public:
  mutator_program(heap& h, mutator_t& m, std::uint64_t seed) : h_(h), m_(m), rng_(seed) {}

  void run() {
    waiter w;
    std::uint64_t n = 0;
    while (!m_.poll()) {
      step();
      progress.store(++n, std::memory_order_relaxed);
    }
    m_.hold(w);
    steps_ = n;
  }

  sync::atomic<std::uint64_t> progress{0};  ///< steps so far (for the warm-up wait)
  std::uint64_t steps_ = 0, allocs_ = 0, alloc_bytes_ = 0, hides_ = 0;

 private:
  std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  object*& slot(unsigned i) { return m_.stack[i]; }

  object* any_global() {
    return mutator_t::read(h_.global(pick(static_cast<std::uint32_t>(h_.nglobals()))));
  }

  // Spare global slots (the last 64): the builders leave them null, so
  // mutator stores there never cut the heap's own roots.
  sync::atomic<object*>& spare_global() {
    const std::size_t n = h_.nglobals(), spare = n < 64 ? n : 64;
    return h_.global(n - spare + pick(static_cast<std::uint32_t>(spare)));
  }

  void step() {
    const std::uint32_t op = pick(32);
    const unsigned s = pick(stack_slots), t = pick(stack_slots);
    if (op < 4) {  // load a global
      slot(s) = any_global();
    } else if (op < 14) {  // load a field
      if (object* o = slot(s); o != nullptr && o->nfields != 0)
        slot(t) = mutator_t::read(o->field(pick(o->nfields)));
      else
        slot(s) = any_global();
    } else if (op < 16) {  // store a held pointer into a held object
      if (object* o = slot(t); o != nullptr && o->nfields != 0)
        m_.write(o->field(pick(o->nfields)), slot(s));
    } else if (op == 16) {  // store a held pointer into a global
      m_.write(spare_global(), slot(s));
    } else if (op == 17) {  // delete a field
      if (object* o = slot(t); o != nullptr && o->nfields != 0)
        m_.write(o->field(pick(o->nfields)), nullptr);
    } else if (op < 20) {  // allocate (black), initialise from the stack, keep it
      alloc(s);
    } else {  // the hiding move
      hide();
    }
  }

  void alloc(unsigned s) {
    const std::uint32_t n = pick(4);
    object* o = heap::alloc_in(cur_, end_, n);
    if (o == nullptr) {
      if (exhausted_) return;
      auto [b, e] = h_.alloc_chunk();
      if (b == nullptr) {
        exhausted_ = true;
        return;
      }
      cur_ = b;
      end_ = e;
      o = heap::alloc_in(cur_, end_, n);
    }
    m_.allocated(o);  // black allocation, before the object is published
    ++allocs_;
    alloc_bytes_ += object_bytes(n);
    for (std::uint32_t i = 0; i < n; ++i) m_.write(o->field(i), slot(pick(stack_slots)));
    slot(s) = o;
  }

  // Walk down from a global; B = a marked object whose fields are all marked
  // (scanned, in a tree); A = a white object below it with a white child p.
  void hide() {
    object* cur = any_global();
    object* b = nullptr;
    for (unsigned depth = 0; cur != nullptr && depth < 40; ++depth) {
      slot(0) = cur;
      const std::uint32_t n = cur->nfields;
      if (n == 0) return;
      if (n <= 8) {
        if (h_.is_marked(cur)) {
          bool black = true;
          for (std::uint32_t i = 0; i < n && black; ++i) {
            object* c = mutator_t::read(cur->field(i));
            black = c == nullptr || h_.is_marked(c);
          }
          if (black) {
            b = cur;
            slot(1) = b;
          }
        } else if (b != nullptr) {
          for (std::uint32_t i = 0; i < n; ++i) {
            object* p = mutator_t::read(cur->field(i));
            if (p == nullptr || h_.is_marked(p)) continue;
            slot(2) = p;                              // load p into the stack
            m_.write(cur->field(i), nullptr);         // delete it from A
            m_.write(b->field(pick(b->nfields)), p);  // store it into B
            slot(2) = nullptr;                        // drop it
            ++hides_;
            return;
          }
        }
      }
      cur = mutator_t::read(cur->field(pick(n)));
    }
  }

  heap& h_;
  mutator_t& m_;
  std::mt19937_64 rng_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  bool exhausted_ = false;
};

// ---------------------------------------------------------------- workers

// One per worker, on its own cache lines: the stats are bumped per object,
// and two workers' stats sharing a line would cost a coherence miss each.
struct alignas(sync::cache_line) worker_ctx {
  heap& h;
  bool prefetch_on;
  worker_stats st;

  std::uint64_t scan_one(item it, cache_t& c) {
    const std::uint64_t units = scan_item(h, it, [&](item x) {
      if (!c.put_fast(x)) c.put(x);
    });
    ++st.items;
    if ((it & 1) == 0) {
      ++st.objects;
      st.bytes += object_bytes(reinterpret_cast<object*>(it)->nfields);
    }
    return units;
  }

  // The drain loop runs the prefetch stage (drain.hpp's prefetch_ring): an
  // item is prefetched when it leaves the cache and scanned 16 items later.
  static void prefetch_item(item x) {
    if ((x & 1) == 0) prefetch(reinterpret_cast<const void*>(x));
  }

  std::uint64_t scan_globals(std::uint64_t block, cache_t& c) {
    const std::size_t b = static_cast<std::size_t>(block) * heap::global_block;
    const std::size_t e = std::min(b + heap::global_block, h.nglobals());
    for (std::size_t i = b; i < e; ++i) {
      object* p = h.global(i).load(std::memory_order_acquire);
      if (p != nullptr && h.try_mark(p)) c.put(object_item(p));
    }
    return (e - b) * sizeof(object*);
  }
};

}  // namespace

std::pair<unsigned, double> split_goal(const mark_config& cfg) {
  const unsigned n = std::max(1u, cfg.workers);
  double goal = cfg.cpu_goal;
  if (goal <= 0) goal = cfg.mutators > 0 ? 0.25 : 1.0;
  goal = std::min(goal, 1.0);
  const double want = goal * n;
  unsigned dedicated = static_cast<unsigned>(std::floor(want + 1e-9));
  double frac = want - dedicated;
  if (frac < 0.01) frac = 0;
  if (dedicated == 0 && frac == 0) frac = 0.01;
  return {dedicated, frac};
}

mark_result run_mark(heap& h, const mark_config& cfg) {
  mark_result res;
  const unsigned nworkers = std::max(1u, cfg.workers);
  const auto [dedicated, frac] = split_goal(cfg);
  res.dedicated = dedicated;
  res.has_fractional = frac > 0;
  res.fractional_goal = frac;
  const unsigned nconc = dedicated + (frac > 0 ? 1 : 0);
  const std::uint64_t nblocks = h.global_blocks();

  pool_t pool;  // outlives every cache (workers' and mutators')
  job_counter roots;
  detector_t det(pool, roots, nconc);

  std::vector<std::unique_ptr<mutator_t>> muts;
  std::vector<std::unique_ptr<mutator_program>> progs;
  for (unsigned m = 0; m < cfg.mutators; ++m) {
    muts.push_back(std::make_unique<mutator_t>(h, pool, &det));
    muts.back()->barrier = cfg.barrier;
    muts.back()->begin_cycle();
    progs.push_back(std::make_unique<mutator_program>(h, *muts.back(), cfg.seed * 7919 + m));
  }

  std::vector<worker_ctx> ctx;
  for (unsigned w = 0; w < nworkers; ++w) ctx.push_back(worker_ctx{h, cfg.prefetch, {}});

  std::vector<std::thread> mthreads;
  for (unsigned m = 0; m < cfg.mutators; ++m) mthreads.emplace_back([&, m] { progs[m]->run(); });
  // Warm-up: marking starts once every mutator is running its program.
  for (auto& p : progs) {
    waiter w;
    while (p->progress.load(std::memory_order_relaxed) < cfg.warmup_steps) w();
  }
  const auto t0 = clock_type::now();

  // Concurrent-phase root job j: a block of globals, or mutator j - nblocks's
  // stack by handshake.
  const auto conc_root = [&](worker_ctx& wc) {
    return [&](job_counter::index j, cache_t& c) -> std::uint64_t {
      if (j < nblocks) return wc.scan_globals(j, c);
      waiter w;
      return muts[static_cast<std::size_t>(j - nblocks)]->request_scan(w);
    };
  };
  // Every worker runs the same drain, with or without the prefetch stage.
  const auto run_drain = [&](worker_ctx& wc, cache_t& c, auto&& scan_root,
                             const drain_options& opt) {
    const auto scan = [&](item it, cache_t& wcache) { return wc.scan_one(it, wcache); };
    if (wc.prefetch_on)
      return drain(c, roots, &det, scan_root, scan,
                   prefetch_with<prefetch_depth>([](item x) { worker_ctx::prefetch_item(x); }),
                   opt);
    return drain(c, roots, &det, scan_root, scan, opt);
  };

  // 2. Root scan.
  if (cfg.roots == root_scan::coordinator) {
    worker_ctx cc{h, cfg.prefetch, {}};
    cache_t c(pool);
    for (std::uint64_t j = 0; j < nblocks + cfg.mutators; ++j) conc_root(cc)(j, c);
    c.dispose();
    roots.reset(0);
    res.root_scan_seconds = since(t0);
    res.root_jobs = nblocks + cfg.mutators;
  } else {
    roots.reset(nblocks + cfg.mutators);
    res.root_jobs = nblocks + cfg.mutators;
  }
  det.reset(nconc);

  // 3. Concurrent mark.
  const auto t1 = clock_type::now();
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < dedicated; ++w)
    threads.emplace_back([&, w] {
      cache_t c(pool);
      const drain_result r = run_drain(ctx[w], c, conc_root(ctx[w]), drain_options{});
      ctx[w].st.roots += r.roots;
    });
  if (frac > 0) {
    const unsigned w = dedicated < nworkers ? dedicated : nworkers - 1;
    ctx[w].st.fractional = true;
    threads.emplace_back([&, w, frac = frac] {
      // Fractional worker: drain for frac * period, pause, sleep the rest.
      const auto period = std::chrono::microseconds(2000);
      drain_options opt;
      opt.mode = drain_mode::fractional;
      opt.budget = std::chrono::duration_cast<std::chrono::nanoseconds>(period * frac);
      opt.check_every = 4096;
      cache_t c(pool);
      for (;;) {
        const drain_result r = run_drain(ctx[w], c, conc_root(ctx[w]), opt);
        ctx[w].st.roots += r.roots;
        if (det.pause()) break;  // we completed termination
        std::this_thread::sleep_for(
            std::chrono::duration_cast<std::chrono::microseconds>(period * (1 - frac)));
        // Once done, nobody leaves the terminated state: stay paused and exit.
        // (A resume racing with another thread's "done" is benign: we drain
        // nothing, pause again and see done.)
        if (det.done()) break;
        det.resume();
      }
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  roots.check_all_done();
  res.concurrent_seconds = since(t1);
  std::uint64_t waits = det.waits(), parks = det.parks();

  // 4. Mark termination: stop the world at safepoints, then the same drain.
  const auto t2 = clock_type::now();
  for (auto& m : muts) m->request_stop();
  for (auto& m : muts) {
    waiter w;
    while (!m->is_stopped()) w();
  }
  roots.reset(cfg.mutators);
  det.reset(nworkers);
  for (unsigned w = 0; w < nworkers; ++w)
    threads.emplace_back([&, w] {
      cache_t c(pool);
      const drain_result r = run_drain(
          ctx[w], c,
          [&](job_counter::index j, cache_t& wc) {
            return muts[static_cast<std::size_t>(j)]->flush_held(wc);
          },
          drain_options{});
      ctx[w].st.roots += r.roots;
    });
  for (auto& t : threads) t.join();
  roots.check_all_done();  // Go: gcMarkRootCheck
  pool.reset();            // every buffer home and empty
  res.termination_seconds = since(t2);
  res.seconds = since(t0);
  res.termination_jobs = cfg.mutators;
  waits += det.waits();
  parks += det.parks();

  // 5. Release the mutators; the heap is final.
  for (auto& m : muts) m->release();
  for (auto& t : mthreads) t.join();

  res.waits = waits;
  res.parks = parks;
  res.buffers = pool.buffers();
  for (auto& c : ctx) {
    res.workers.push_back(c.st);
    res.marked_bytes += c.st.bytes;
  }
  for (unsigned m = 0; m < cfg.mutators; ++m) {
    res.mutator_steps += progs[m]->steps_;
    res.mutator_allocs += progs[m]->allocs_;
    res.mutator_alloc_bytes += progs[m]->alloc_bytes_;
    res.hiding_moves += progs[m]->hides_;
    res.barrier_shades += muts[m]->shaded();
    res.barrier_flushes += muts[m]->flushes();
    for (object* p : muts[m]->stack)
      if (p != nullptr) res.final_roots.push_back(p);
  }
  res.marked_bytes += res.mutator_alloc_bytes;
  res.marked_objects = h.count_marked();
  return res;
}

// ------------------------------------------------------- sequential markers

// The baselines: a depth-first marker with an explicit stack, optionally with
// the 16-entry FIFO of prefetched objects in front of the stack (Cher,
// Hosking & Vijaykumar; Boehm's GC_mark_from). Single-threaded: plain
// load+store mark bits.
template <bool Prefetch>
seq_result mark_sequential(heap& h) {
  seq_result r;
  const auto t0 = clock_type::now();
  seq_heap sh{h};
  std::vector<item> stack;
  stack.reserve(1 << 16);
  const auto push = [&](item x) { stack.push_back(x); };
  for (std::size_t i = 0; i < h.nglobals(); ++i)
    if (object* p = h.global_value(i); p != nullptr && sh.try_mark(p)) push(object_item(p));
  prefetch_fifo f;
  for (;;) {
    item it;
    if constexpr (Prefetch) {
      while (!f.full() && !stack.empty()) {
        f.push(stack.back());
        stack.pop_back();
      }
      if (f.empty()) break;
      it = f.pop();
    } else {
      if (stack.empty()) break;
      it = stack.back();
      stack.pop_back();
    }
    scan_item(sh, it, push);
    if ((it & 1) == 0) {
      ++r.objects;
      r.bytes += object_bytes(reinterpret_cast<object*>(it)->nfields);
    }
  }
  r.seconds = since(t0);
  return r;
}

seq_result mark_sequential_plain(heap& h) { return mark_sequential<false>(h); }
seq_result mark_sequential_prefetch(heap& h) { return mark_sequential<true>(h); }

// ------------------------------------------------------------------ checker

check_result check_complete(const heap& h, const std::vector<object*>& extra_roots) {
  check_result r;
  const std::size_t granules = h.used_bytes() / granule + 1;
  std::vector<std::uint64_t> seen((granules + 63) / 64, 0);
  std::vector<object*> stack;
  const auto visit = [&](object* p) {
    if (p == nullptr) return;
    const std::size_t g = static_cast<std::size_t>(reinterpret_cast<char*>(p) - h.base()) / granule;
    const std::uint64_t m = std::uint64_t{1} << (g % 64);
    if (seen[g / 64] & m) return;
    seen[g / 64] |= m;
    ++r.reachable;
    if (!h.is_marked(p)) ++r.unmarked;
    stack.push_back(p);
  };
  for (std::size_t i = 0; i < h.nglobals(); ++i) visit(h.global_value(i));
  for (object* p : extra_roots) visit(p);
  while (!stack.empty()) {
    object* o = stack.back();
    stack.pop_back();
    for (std::uint32_t i = 0; i < o->nfields; ++i)
      visit(o->field(i).load(std::memory_order_acquire));
  }
  r.marked = h.count_marked();
  return r;
}

}  // namespace marker
WORKQ_NAMESPACE_END
