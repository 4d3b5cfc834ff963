#include "sensors/profile/stack_resolver.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sensors/profile/elf_symbols.hpp"

namespace waggle {

namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

std::string comm_of(const wg_profile_sample& s) { return std::string(s.comm, strnlen(s.comm, sizeof(s.comm))); }

bool exe_identity(pid_t pid, uint64_t* dev, uint64_t* ino) {
  struct stat st{};
  if (stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) != 0) return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

}  // namespace

StackResolver::StackResolver(ResolverOptions options) : options_(std::move(options)) {
  if (kernel_.load_kallsyms(options_.kallsyms, &kernel_error_)) stats_.kernel_symbols = kernel_.size();
}

StackResolver::~StackResolver() = default;

bool StackResolver::open_context(pid_t pid, Context* ctx) {
  std::string error;
  ctx->unwinder = ProcessUnwinder::open(pid, options_.debug_root, &error);
  ctx->perf_map.reset();
  ctx->perf_map_tried = false;
  ctx->last_reload_ns = monotonic_ns();
  exe_identity(pid, &ctx->exe_dev, &ctx->exe_ino);
  if (!ctx->unwinder) {
    stats_.processes_unreadable++;
    return false;
  }
  stats_.processes_opened++;
  return true;
}

StackResolver::Context* StackResolver::context_for(const wg_profile_sample& sample) {
  pid_t pid = pid_t(sample.pid);
  auto it = contexts_.find(pid);
  if (it != contexts_.end()) {
    Context& ctx = it->second;
    lru_.splice(lru_.begin(), lru_, ctx.lru);
    std::string comm = comm_of(sample);
    if (comm != ctx.comm) {
      // A new comm may mean a new program (exec): rebuild if the executable changed.
      ctx.comm = comm;
      uint64_t dev = 0, ino = 0;
      if (exe_identity(pid, &dev, &ino) && (dev != ctx.exe_dev || ino != ctx.exe_ino)) {
        stats_.processes_reloaded++;
        open_context(pid, &ctx);
      }
    }
    return &ctx;
  }
  if (contexts_.size() >= options_.max_processes && !lru_.empty()) {
    contexts_.erase(lru_.back());
    lru_.pop_back();
    stats_.processes_evicted++;
  }
  lru_.push_front(pid);
  Context& ctx = contexts_[pid];
  ctx.lru = lru_.begin();
  ctx.comm = comm_of(sample);
  open_context(pid, &ctx);
  return &ctx;
}

ProfileFrame StackResolver::kernel_frame(uint64_t pc) const {
  ProfileFrame frame;
  frame.kind = FrameKind::kKernel;
  if (auto hit = kernel_.find(pc)) {
    frame.function = std::string(hit->name);
    frame.module = hit->module.empty() ? "[kernel.kallsyms]" : fmt::format("[{}]", hit->module);
  } else {
    frame.function = fmt::format("[kernel]+0x{:x}", pc);
    frame.module = "[kernel.kallsyms]";
  }
  return frame;
}

ProfileFrame StackResolver::user_frame(Context* ctx, uint64_t pc) {
  Dwfl_Module* mod = ctx->unwinder ? ctx->unwinder->module_at(pc) : nullptr;
  if (!mod && ctx->unwinder) {
    // Outside every mapping this context knows: JIT code, or a library mapped since (dlopen).
    if (!ctx->perf_map_tried) {
      ctx->perf_map_tried = true;
      auto map = std::make_unique<SymbolTable>();
      std::string error;
      if (map->load_perf_map(perf_map_path(ctx->unwinder->pid()), &error)) ctx->perf_map = std::move(map);
    }
    if (ctx->perf_map) {
      if (auto hit = ctx->perf_map->find(pc)) return {std::string(hit->name), "[jit]", FrameKind::kJit};
    }
    uint64_t now = monotonic_ns();
    if (now - ctx->last_reload_ns > 200000000ull) {  // at most 5 rebuilds a second
      stats_.processes_reloaded++;
      open_context(ctx->unwinder->pid(), ctx);
      mod = ctx->unwinder ? ctx->unwinder->module_at(pc) : nullptr;
    }
  }
  if (!mod) return {fmt::format("[unknown]+0x{:x}", pc), "[unknown]", FrameKind::kUnknown};
  std::string build_id = module_build_id(mod);
  if (build_id.empty()) return symbolize_module_address(mod, pc);
  std::string key = fmt::format("{}:{:x}", build_id, module_address(mod, pc));
  if (auto it = names_.find(key); it != names_.end()) {
    names_lru_.splice(names_lru_.begin(), names_lru_, it->second.lru);
    return it->second.frame;
  }
  ProfileFrame frame = symbolize_module_address(mod, pc);
  if (names_.size() >= options_.max_cached_names && !names_lru_.empty()) {
    names_.erase(names_lru_.back());
    names_lru_.pop_back();
    stats_.names_evicted++;
  }
  names_lru_.push_front(key);
  names_.emplace(key, Named{frame, names_lru_.begin()});
  stats_.names_cached++;
  return frame;
}

void StackResolver::resolve(const wg_profile_sample& sample, size_t size, std::vector<ProfileFrame>* frames) {
  stats_.samples++;
  frames->clear();
  pcs_.clear();
  if (sample.flags & WG_PROFILE_F_USER_REGS) {
    Context* ctx = context_for(sample);
    // A process whose mappings could not be read (racing its exec, say) is tried again, at most
    // once a second.
    if (!ctx->unwinder && monotonic_ns() - ctx->last_reload_ns > 1000000000ull) open_context(pid_t(sample.pid), ctx);
    if (ctx->unwinder) {
      ctx->unwinder->unwind(sample, size, options_.max_frames, &pcs_);
    } else {
      pcs_.push_back(sample.regs[16]);
    }
    // Outermost first.
    for (auto it = pcs_.rbegin(); it != pcs_.rend(); ++it) frames->push_back(user_frame(ctx, *it));
  }
  uint32_t kernel_frames = std::min<uint32_t>(sample.kstack_len, WG_PROFILE_KSTACK_MAX);
  for (uint32_t i = kernel_frames; i-- > 0;) frames->push_back(kernel_frame(sample.kstack[i]));
}

void add_to_profile(const wg_profile_sample& sample, const std::vector<ProfileFrame>& frames, Profile* profile) {
  std::vector<uint32_t> ids;
  ids.reserve(frames.size());
  for (const ProfileFrame& f : frames) ids.push_back(profile->intern(f));
  profile->add(std::string(sample.comm, strnlen(sample.comm, sizeof(sample.comm))), sample.pid, ids,
               std::max<uint32_t>(sample.weight, 1));
}

void StackResolver::add(const wg_profile_sample& sample, size_t size, Profile* profile) {
  resolve(sample, size, &frames_);
  add_to_profile(sample, frames_, profile);
}

void StackResolver::sweep() {
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    if (kill(it->first, 0) != 0 && errno == ESRCH) {
      lru_.erase(it->second.lru);
      it = contexts_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace waggle
