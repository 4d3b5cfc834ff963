// Turns the kernel's samples into named stacks in a Profile: unwinds user stacks with one
// ProcessUnwinder per process, names user frames (cached by build-id), kernel frames from
// /proc/kallsyms and JIT frames from perf maps. Memory is bounded: a limited number of process
// contexts and cached names, the least recently used evicted first, evictions counted.
#pragma once

#include <linux/types.h>
#include <sys/types.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/profile.hpp"
#include "sensors/profile/process_unwinder.hpp"
#include "sensors/profile/profile_record.h"
#include "sensors/profile/symbol_table.hpp"

namespace waggle {

struct ResolverOptions {
  std::string debug_root = "/usr/lib/debug";
  std::string kallsyms = "/proc/kallsyms";
  size_t max_processes = 256;         // unwinding contexts kept
  size_t max_cached_names = 200000;   // (build-id, address) -> frame
  size_t max_frames = 128;            // user frames per stack
};

struct ResolverStats {
  uint64_t samples = 0;
  uint64_t processes_opened = 0;
  uint64_t processes_evicted = 0;    // contexts dropped to stay within max_processes
  uint64_t processes_reloaded = 0;   // contexts rebuilt after their mappings changed
  uint64_t processes_unreadable = 0; // processes gone (or unreadable) before their mappings were read
  uint64_t names_cached = 0;
  uint64_t names_evicted = 0;
  uint64_t kernel_symbols = 0;
};

class StackResolver {
 public:
  explicit StackResolver(ResolverOptions options);
  ~StackResolver();

  // Why kernel frames cannot be named, or empty.
  const std::string& kernel_error() const { return kernel_error_; }

  // The sample's frames, outermost first: user frames, then kernel frames.
  void resolve(const wg_profile_sample& sample, size_t size, std::vector<ProfileFrame>* frames);
  // Adds one sample to the profile.
  void add(const wg_profile_sample& sample, size_t size, Profile* profile);
  // Drops the contexts of processes that have exited.
  void sweep();
  const ResolverStats& stats() const { return stats_; }

 private:
  struct Context {
    std::unique_ptr<ProcessUnwinder> unwinder;
    std::string comm;
    uint64_t exe_dev = 0, exe_ino = 0;
    uint64_t last_reload_ns = 0;
    std::unique_ptr<SymbolTable> perf_map;  // loaded on the first pc outside every module
    bool perf_map_tried = false;
    std::list<pid_t>::iterator lru;
  };
  Context* context_for(const wg_profile_sample& sample);
  bool open_context(pid_t pid, Context* ctx);
  ProfileFrame user_frame(Context* ctx, uint64_t pc);
  ProfileFrame kernel_frame(uint64_t pc) const;

  ResolverOptions options_;
  ResolverStats stats_;
  SymbolTable kernel_;
  std::string kernel_error_;
  std::unordered_map<pid_t, Context> contexts_;
  std::list<pid_t> lru_;  // most recently used first
  // Frames by (build-id, module address), least recently used evicted.
  struct Named {
    ProfileFrame frame;
    std::list<std::string>::iterator lru;
  };
  std::unordered_map<std::string, Named> names_;
  std::list<std::string> names_lru_;
  std::vector<uint64_t> pcs_;  // reused per sample
  std::vector<ProfileFrame> frames_;
};

// Adds a sample whose frames were resolved to the profile, under its process.
void add_to_profile(const wg_profile_sample& sample, const std::vector<ProfileFrame>& frames, Profile* profile);

}  // namespace waggle
