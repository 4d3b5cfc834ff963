#include "sensors/profile/continuous_profiler.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/proc_reader.hpp"

namespace waggle {

std::unique_ptr<ContinuousProfiler> ContinuousProfiler::start(const SamplerOptions& sampler,
                                                              const ResolverOptions& resolver, std::string* error) {
  std::unique_ptr<ContinuousProfiler> p(new ContinuousProfiler(resolver));
  ContinuousProfiler* self = p.get();
  p->sampler_ = Sampler::open(
      sampler, [self](const wg_profile_sample& s, size_t size) { self->on_sample(s, size); }, error);
  if (!p->sampler_) return nullptr;
  // The sampling thread takes no signals: the agent's main thread handles them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  p->thread_ = std::thread([self] { self->run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return p;
}

ContinuousProfiler::~ContinuousProfiler() { stop(); }

void ContinuousProfiler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stopped_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ContinuousProfiler::run() {
  auto next_sweep = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    int n = sampler_->poll(100);
    if (n < 0 && n != -EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // no busy loop
    if (std::chrono::steady_clock::now() >= next_sweep) {
      std::lock_guard<std::mutex> lock(mutex_);
      resolver_.sweep();
      next_sweep += std::chrono::seconds(1);
    }
  }
}

bool ContinuousProfiler::matches(const ProfileFilter& f, const wg_profile_sample& s) {
  if (f.pid && s.pid != f.pid) return false;
  if (!f.comm.empty() && f.comm != std::string(s.comm, strnlen(s.comm, sizeof(s.comm)))) return false;
  if (!f.container.empty()) {
    std::string id;
    auto it = container_of_cgroup_.find(s.cgroup_id);
    if (it != container_of_cgroup_.end()) {
      id = it->second;
    } else if (auto path = cgroup2_path_of("/proc", s.pid)) {
      id = container_id_from_cgroup(*path);
      if (container_of_cgroup_.size() >= 4096) container_of_cgroup_.clear();  // bounded; refilled on demand
      container_of_cgroup_.emplace(s.cgroup_id, id);  // not when the process was gone: unknown, not "none"
    }
    if (id.empty() || id.rfind(f.container, 0) != 0) return false;
  }
  return true;
}

void ContinuousProfiler::on_sample(const wg_profile_sample& sample, size_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (windows_.empty()) return;  // posted just before the last window closed
  bool wanted = false;
  for (Window* w : windows_) wanted = wanted || matches(w->filter, sample);
  if (!wanted) return;
  resolver_.resolve(sample, size, &frames_);
  for (Window* w : windows_)
    if (matches(w->filter, sample)) add_to_profile(sample, frames_, &w->profile);
}

Profile ContinuousProfiler::collect(double seconds, const ProfileFilter& filter) {
  Window window;
  window.filter = filter;
  auto start = std::chrono::steady_clock::now();
  window.profile.start_time_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::unique_lock<std::mutex> lock(mutex_);
  window.profile.frequency_hz = sampler_->frequency_hz();
  windows_.push_back(&window);
  sampler_->set_collecting(true);
  stopped_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return stopping_; });
  windows_.remove(&window);
  if (windows_.empty()) sampler_->set_collecting(false);
  window.profile.duration_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  return std::move(window.profile);
}

ResolverStats ContinuousProfiler::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return resolver_.stats();
}

}  // namespace waggle
