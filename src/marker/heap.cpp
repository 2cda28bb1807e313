// src/marker/heap.cpp — arena, mark bitmap, heap builders and the loader.
#include "marker/heap.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

WORKQ_NAMESPACE_BEGIN
namespace marker {

namespace {

void* reserve(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    throw user_error("cannot reserve " + std::to_string(bytes >> 20) + " MiB of address space");
  return p;
}

std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

// A progress line on stderr once a build has taken more than a second.
class progress_meter {
 public:
  progress_meter(bool on, std::uint64_t total) : on_(on), total_(total ? total : 1) {}
  ~progress_meter() {
    if (shown_) std::fprintf(stderr, "\rbuilding heap: 100%%            \n");
  }
  void tick(std::uint64_t done) {
    if (!on_ || (done & 0xFFFF) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::seconds(1)) return;
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\rbuilding heap: %3u%% (%llu objects)",
                 static_cast<unsigned>(std::min<std::uint64_t>(100, done * 100 / total_)),
                 static_cast<unsigned long long>(done));
    std::fflush(stderr);
  }

 private:
  bool on_;
  std::uint64_t total_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

}  // namespace

heap::heap(std::size_t capacity, std::size_t nglobals) {
  cap_ = round_up(std::max<std::size_t>(capacity, 1 << 20), large_align);
  base_ = static_cast<char*>(reserve(cap_));
  bitmap_bytes_ = round_up(cap_ / granule / 8, 4096);
  // Zero-filled anonymous pages are valid all-zero std::atomic<uint64_t>
  // (lock-free, trivially destructible, same representation as uint64_t).
  static_assert(sizeof(sync::atomic<std::uint64_t>) == sizeof(std::uint64_t));
  bits_ = static_cast<sync::atomic<std::uint64_t>*>(reserve(bitmap_bytes_));
  nglobals_ = nglobals;
  globals_ = std::make_unique<sync::atomic<object*>[]>(nglobals);
  for (std::size_t i = 0; i < nglobals; ++i) globals_[i].store(nullptr, std::memory_order_relaxed);
}

heap::~heap() {
  ::munmap(base_, cap_);
  ::munmap(bits_, bitmap_bytes_);
}

object* heap::alloc(std::uint64_t nfields) {
  if (nfields > max_fields)
    throw user_error("object with " + std::to_string(nfields) + " fields exceeds the limit of " +
                     std::to_string(max_fields));
  const std::size_t bytes = object_bytes(nfields);
  std::size_t top = top_.load(std::memory_order_relaxed);
  if (is_large(nfields)) top = round_up(top, large_align);
  if (top + bytes > cap_)
    throw user_error("heap arena full (" + std::to_string(cap_ >> 20) + " MiB)");
  object* o = reinterpret_cast<object*>(base_ + top);
  o->nfields = static_cast<std::uint32_t>(nfields);
  o->flags = 0;
  // Fresh mmap pages are zero: the fields already read as null.
  top_.store(top + bytes, std::memory_order_relaxed);
  ++nobjects_;
  nbytes_ += bytes;
  return o;
}

std::pair<char*, char*> heap::alloc_chunk() {
  const std::size_t t = top_.fetch_add(chunk_bytes, std::memory_order_relaxed);
  if (t + chunk_bytes > cap_) {
    top_.fetch_sub(chunk_bytes, std::memory_order_relaxed);
    return {nullptr, nullptr};
  }
  return {base_ + t, base_ + t + chunk_bytes};
}

object* heap::alloc_in(char*& cur, char* end, std::uint32_t nfields) {
  const std::size_t bytes = object_bytes(nfields);
  if (cur == nullptr || static_cast<std::size_t>(end - cur) < bytes) return nullptr;
  object* o = reinterpret_cast<object*>(cur);
  o->nfields = nfields;
  o->flags = 0;
  for (std::uint32_t i = 0; i < nfields; ++i) o->field(i).store(nullptr, std::memory_order_relaxed);
  cur += bytes;
  return o;
}

void heap::clear_marks() {
  const std::size_t words = (top_.load(std::memory_order_relaxed) / granule + 63) / 64;
  std::memset(static_cast<void*>(bits_), 0, words * sizeof(std::uint64_t));
}

std::vector<std::uint64_t> heap::snapshot_marks() const {
  const std::size_t words = (top_.load(std::memory_order_relaxed) / granule + 63) / 64;
  std::vector<std::uint64_t> v(words);
  for (std::size_t i = 0; i < words; ++i) v[i] = bits_[i].load(std::memory_order_relaxed);
  return v;
}

std::size_t heap::count_marked() const {
  std::size_t n = 0;
  for (std::uint64_t w : snapshot_marks()) n += static_cast<std::size_t>(__builtin_popcountll(w));
  return n;
}

const char* shape_name(shape s) {
  switch (s) {
    case shape::mixed:
      return "mixed";
    case shape::trees:
      return "trees";
    case shape::graph:
      return "graph";
    case shape::lists:
      return "lists";
    case shape::arrays:
      return "arrays";
  }
  return "?";
}

std::uint64_t max_objects() {
  // Every object costs at least 16 bytes in the arena, plus builder scratch;
  // allow at most half of physical memory at ~48 bytes per object.
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  std::uint64_t phys =
      (pages > 0 && page > 0) ? std::uint64_t(pages) * std::uint64_t(page) : std::uint64_t{4} << 30;
  std::uint64_t n = phys / 2 / 48;
  return std::min<std::uint64_t>(n, std::uint64_t{1} << 31);
}

void check_size(std::uint64_t objects) {
  if (objects == 0) throw user_error("heap size must be at least 1 object");
  if (objects > max_objects())
    throw user_error("heap of " + std::to_string(objects) +
                     " objects does not fit in memory (at most " + std::to_string(max_objects()) +
                     " on this machine)");
}

namespace {

struct plan {
  std::uint64_t tree_nodes = 0;  // total over trees
  unsigned tree_depth = 0;
  std::uint64_t ntrees = 0;
  std::uint64_t graph = 0;
  std::uint64_t nlists = 0, list_len = 0;
  std::uint64_t narrays = 0, array_len = 0;
};

std::uint64_t tree_size(unsigned d) { return (std::uint64_t{2} << d) - 1; }

void plan_trees(plan& p, std::uint64_t n) {
  if (n == 0) return;
  unsigned d = 0;
  while (d < 18 && tree_size(d + 1) * 2 <= n) ++d;
  p.tree_depth = d;
  p.ntrees = std::max<std::uint64_t>(1, (n + tree_size(d) / 2) / tree_size(d));
  p.tree_nodes = p.ntrees * tree_size(d);
}

plan make_plan(shape s, std::uint64_t n) {
  plan p;
  switch (s) {
    case shape::trees:
      plan_trees(p, n);
      break;
    case shape::graph:
      p.graph = n;
      break;
    case shape::lists:
      p.nlists = std::max<std::uint64_t>(1, std::min<std::uint64_t>(4, n));
      p.list_len = std::max<std::uint64_t>(1, n / p.nlists);
      break;
    case shape::arrays:
      p.narrays = std::max<std::uint64_t>(1, std::min<std::uint64_t>(4, n / 2));
      p.array_len = std::max<std::uint64_t>(1, n / p.narrays - 1);
      break;
    case shape::mixed:
      plan_trees(p, n / 2);
      p.graph = n / 4;
      p.nlists = 4;
      p.list_len = std::max<std::uint64_t>(1, n / 10 / 4);
      p.narrays = 4;
      p.array_len = std::max<std::uint64_t>(1, (n * 15 / 100) / 4 - 1);
      break;
  }
  if (p.array_len > max_fields) p.array_len = max_fields;
  return p;
}

class builder {
 public:
  builder(heap& h, progress_meter& pm) : h_(h), pm_(pm) {}
  object* alloc(std::uint64_t n) {
    object* o = h_.alloc(n);
    pm_.tick(++count_);
    return o;
  }
  // BinaryTree benchmark: bottomUpTree(depth) allocates children before the
  // parent (post-order), recursively.
  object* tree(unsigned d) {
    if (d == 0) return alloc(2);  // a leaf: two null fields
    object* l = tree(d - 1);
    object* r = tree(d - 1);
    object* o = alloc(2);
    o->field(0).store(l, std::memory_order_relaxed);
    o->field(1).store(r, std::memory_order_relaxed);
    return o;
  }
  std::uint64_t count_ = 0;

 private:
  heap& h_;
  progress_meter& pm_;
};

}  // namespace

std::unique_ptr<heap> build_heap(const heap_spec& spec) {
  check_size(spec.objects);
  const plan p = make_plan(spec.kind, spec.objects);
  const std::uint64_t graph_roots = p.graph ? std::max<std::uint64_t>(1, p.graph / 64) : 0;
  const std::uint64_t nroots = p.ntrees + graph_roots + p.nlists + p.narrays;
  const std::uint64_t total =
      p.tree_nodes + p.graph + p.nlists * p.list_len + p.narrays * (p.array_len + 1);
  const std::size_t cap = static_cast<std::size_t>(
      p.tree_nodes * 32 + p.graph * 48 + p.nlists * p.list_len * 16 +
      p.narrays * (p.array_len * 24 + large_align + 64) + spec.mutator_headroom + (1 << 20));
  auto h = std::make_unique<heap>(cap, static_cast<std::size_t>(nroots + 64));
  progress_meter pm(spec.progress, total);
  builder b(*h, pm);
  std::mt19937_64 rng(spec.seed);
  std::size_t g = 0;

  for (std::uint64_t t = 0; t < p.ntrees; ++t)
    h->global(g++).store(b.tree(p.tree_depth), std::memory_order_relaxed);

  if (p.graph) {
    // Uniform random graph: 0..4 fields per node, uniform targets.
    std::vector<object*> nodes(p.graph);
    for (auto& o : nodes) o = b.alloc(rng() % 5);
    for (object* o : nodes)
      for (std::uint32_t i = 0; i < o->nfields; ++i)
        o->field(i).store(nodes[rng() % p.graph], std::memory_order_relaxed);
    for (std::uint64_t r = 0; r < graph_roots; ++r)
      h->global(g++).store(nodes[rng() % p.graph], std::memory_order_relaxed);
  }

  if (p.nlists) {
    // Lists allocated round-robin, so successive nodes of one list are not
    // adjacent in memory: the worst case for parallel marking (no
    // parallelism within a list) and for hardware prefetchers.
    std::vector<object*> tail(p.nlists, nullptr);
    for (std::uint64_t i = 0; i < p.list_len; ++i)
      for (std::uint64_t l = 0; l < p.nlists; ++l) {
        object* o = b.alloc(1);
        if (tail[l] == nullptr)
          h->global(g + l).store(o, std::memory_order_relaxed);
        else
          tail[l]->field(0).store(o, std::memory_order_relaxed);
        tail[l] = o;
      }
    g += p.nlists;
  }

  for (std::uint64_t a = 0; a < p.narrays; ++a) {
    object* arr = b.alloc(p.array_len);
    for (std::uint64_t i = 0; i < p.array_len; ++i)
      arr->field(static_cast<std::uint32_t>(i)).store(b.alloc(0), std::memory_order_relaxed);
    h->global(g++).store(arr, std::memory_order_relaxed);
  }
  return h;
}

// ------------------------------------------------------------------ loader

namespace {

[[noreturn]] void fail_at(const std::string& path, std::uint64_t line, const std::string& what) {
  throw user_error(path + ":" + std::to_string(line) + ": " + what);
}

bool parse_int(const std::string& tok, long long& out) {
  if (tok.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoll(tok.c_str(), &end, 10);
  return errno == 0 && end != nullptr && *end == '\0';
}

}  // namespace

std::unique_ptr<heap> load_heap_file(const std::string& path, std::size_t mutator_headroom,
                                     bool progress) {
  std::ifstream in(path);
  if (!in) throw user_error(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  std::uint64_t lineno = 0;
  long long n = -1;
  std::vector<std::int64_t> first;  // per object: offset into kids, -1 undefined
  std::vector<std::uint32_t> nf;
  std::vector<std::int64_t> kids;
  std::vector<std::int64_t> roots;
  std::vector<std::uint64_t> defined_at;
  std::vector<std::string> tok;
  while (std::getline(in, text)) {
    ++lineno;
    if (const auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    tok.clear();
    {
      std::istringstream ss(text);
      std::string t;
      while (ss >> t) tok.push_back(t);
    }
    if (tok.empty()) continue;
    if (n < 0) {
      long long v = 0, c = 0;
      if (tok.size() != 3 || tok[0] != "workq-heap" || !parse_int(tok[1], v) ||
          !parse_int(tok[2], c))
        fail_at(path, lineno, "expected header 'workq-heap 1 <nobjects>'");
      if (v != 1) fail_at(path, lineno, "unsupported format version " + tok[1] + " (want 1)");
      if (c <= 0) fail_at(path, lineno, "object count must be positive");
      try {
        check_size(static_cast<std::uint64_t>(c));
      } catch (const user_error& e) {
        fail_at(path, lineno, e.what());
      }
      n = c;
      first.assign(static_cast<std::size_t>(n), -1);
      nf.assign(static_cast<std::size_t>(n), 0);
      defined_at.assign(static_cast<std::size_t>(n), 0);
      continue;
    }
    long long id = 0;
    if (tok[0] == "root") {
      if (tok.size() != 2 || !parse_int(tok[1], id)) fail_at(path, lineno, "expected 'root <id>'");
      if (id < 0 || id >= n)
        fail_at(path, lineno, "root id " + tok[1] + " out of range [0, " + std::to_string(n) + ")");
      roots.push_back(id);
      continue;
    }
    long long k = 0;
    if (tok.size() < 2 || !parse_int(tok[0], id) || !parse_int(tok[1], k))
      fail_at(path, lineno, "expected '<id> <nfields> <child-id|-1>...' or 'root <id>'");
    if (id < 0 || id >= n)
      fail_at(path, lineno, "object id " + tok[0] + " out of range [0, " + std::to_string(n) + ")");
    if (k < 0 || static_cast<unsigned long long>(k) > max_fields)
      fail_at(path, lineno, "bad field count " + tok[1]);
    if (tok.size() != static_cast<std::size_t>(k) + 2)
      fail_at(path, lineno,
              "object " + tok[0] + " declares " + tok[1] + " fields but lists " +
                  std::to_string(tok.size() - 2));
    if (first[static_cast<std::size_t>(id)] >= 0)
      fail_at(path, lineno,
              "object " + tok[0] + " defined twice (first at line " +
                  std::to_string(defined_at[static_cast<std::size_t>(id)]) + ")");
    first[static_cast<std::size_t>(id)] = static_cast<std::int64_t>(kids.size());
    nf[static_cast<std::size_t>(id)] = static_cast<std::uint32_t>(k);
    defined_at[static_cast<std::size_t>(id)] = lineno;
    for (long long i = 0; i < k; ++i) {
      long long c = 0;
      const std::string& t = tok[static_cast<std::size_t>(i + 2)];
      if (!parse_int(t, c) || c < -1 || c >= n)
        fail_at(path, lineno,
                "field " + std::to_string(i) + " of object " + tok[0] + ": '" + t +
                    "' is not -1 or an id in [0, " + std::to_string(n) + ")");
      kids.push_back(c);
    }
  }
  if (in.bad()) throw user_error(path + ": read error");
  if (n < 0)
    fail_at(path, lineno == 0 ? 1 : lineno,
            "empty file: expected header 'workq-heap 1 <nobjects>'");
  for (std::size_t i = 0; i < first.size(); ++i)
    if (first[i] < 0)
      fail_at(
          path, lineno,
          "object " + std::to_string(i) + " is never defined (" + std::to_string(n) + " declared)");

  std::size_t cap = mutator_headroom + (1 << 20);
  for (std::uint32_t k : nf) cap += object_bytes(k) + (is_large(k) ? large_align : 0);
  auto h = std::make_unique<heap>(cap, roots.size() + 64);
  progress_meter pm(progress, static_cast<std::uint64_t>(n));
  std::vector<object*> objs(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < objs.size(); ++i) {
    objs[i] = h->alloc(nf[i]);
    pm.tick(i + 1);
  }
  for (std::size_t i = 0; i < objs.size(); ++i)
    for (std::uint32_t f = 0; f < nf[i]; ++f) {
      const std::int64_t c = kids[static_cast<std::size_t>(first[i]) + f];
      objs[i]->field(f).store(c < 0 ? nullptr : objs[static_cast<std::size_t>(c)],
                              std::memory_order_relaxed);
    }
  for (std::size_t r = 0; r < roots.size(); ++r)
    h->global(r).store(objs[static_cast<std::size_t>(roots[r])], std::memory_order_relaxed);
  return h;
}

}  // namespace marker
WORKQ_NAMESPACE_END
