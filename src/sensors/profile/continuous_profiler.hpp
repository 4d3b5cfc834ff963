// The profiler inside `waggle run`: sampling stays attached, and samples are unwound and
// named only while someone collects a window (a /debug/pprof/profile?seconds=N request).
// While nobody collects, the BPF program returns before copying anything.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/profile.hpp"
#include "sensors/profile/sampler.hpp"
#include "sensors/profile/stack_resolver.hpp"

namespace waggle {

// Which processes a window keeps; every field that is set must match.
struct ProfileFilter {
  uint32_t pid = 0;
  std::string comm;
  std::string container;  // a container id or a prefix of one
};

class ContinuousProfiler {
 public:
  static std::unique_ptr<ContinuousProfiler> start(const SamplerOptions& sampler, const ResolverOptions& resolver,
                                                   std::string* error);
  ~ContinuousProfiler();  // stop()
  void stop();

  // Collects samples for `seconds` from now and returns them (less if stop() comes first).
  Profile collect(double seconds, const ProfileFilter& filter);
  // Sampling starts collecting (every sample is resolved, none kept); the agent turns it off
  // until a window is asked for.
  void set_collecting(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (windows_.empty()) sampler_->set_collecting(on);
  }
  // Samples the kernel could not post (ring full).
  uint64_t dropped() const { return sampler_->dropped(); }
  // What the resolver did so far (a copy, taken under the lock).
  ResolverStats stats();

 private:
  struct Window {
    ProfileFilter filter;
    Profile profile;
  };
  ContinuousProfiler(const ResolverOptions& resolver) : resolver_(resolver) {}
  void on_sample(const wg_profile_sample& sample, size_t size);
  bool matches(const ProfileFilter& filter, const wg_profile_sample& sample);
  void run();

  std::unique_ptr<Sampler> sampler_;
  std::mutex mutex_;  // guards everything below; the sampling thread holds it per sample
  std::condition_variable stopped_cv_;
  bool stopping_ = false;
  StackResolver resolver_;
  std::list<Window*> windows_;
  std::unordered_map<uint64_t, std::string> container_of_cgroup_;
  std::vector<ProfileFrame> frames_;
  std::thread thread_;
};

}  // namespace waggle
