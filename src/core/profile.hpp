// A CPU profile as the exporters see it: interned frames and the count of samples per
// (process, stack). Knows nothing of how the samples were taken.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace waggle {

enum class FrameKind : uint8_t {
  kUser,     // a function of a file mapped by the process
  kKernel,   // a kernel function (from /proc/kallsyms)
  kJit,      // a name from /tmp/perf-PID.map
  kUnknown,  // no symbol covers the address: function is "module+0xOFFSET"
};

struct ProfileFrame {
  std::string function;  // demangled name, or "module+0xOFFSET"
  std::string module;    // file path, "[kernel.kallsyms]", "[jit]" or "[unknown]"
  FrameKind kind = FrameKind::kUser;
  auto key() const { return std::tie(kind, module, function); }
};

struct ProfileStack {
  std::string process;            // comm
  uint32_t pid = 0;               // tgid
  std::vector<uint32_t> frames;   // indices into Profile::frames(), outermost (main) first
  uint64_t samples = 0;
};

class Profile {
 public:
  // Sampling rate: each sample stands for 1/frequency_hz seconds of one CPU, or off CPU, of
  // one thread's blocked time.
  uint32_t frequency_hz = 19;
  bool off_cpu = false;
  int64_t start_time_ns = 0;  // wall clock (CLOCK_REALTIME) when sampling began
  int64_t duration_ns = 0;

  // The index of the frame, added if new.
  uint32_t intern(const ProfileFrame& frame);
  // Adds `samples` to the stack (frames outermost first) of that process.
  void add(const std::string& process, uint32_t pid, std::span<const uint32_t> frames, uint64_t samples = 1);

  const std::vector<ProfileFrame>& frames() const { return frames_; }
  // Every distinct stack, ordered by process, pid, then frames.
  std::vector<ProfileStack> stacks() const;
  uint64_t total_samples() const { return total_; }
  int64_t period_ns() const { return frequency_hz ? 1000000000LL / frequency_hz : 0; }

 private:
  std::vector<ProfileFrame> frames_;
  std::map<std::tuple<FrameKind, std::string, std::string>, uint32_t> frame_index_;
  std::map<std::tuple<std::string, uint32_t, std::vector<uint32_t>>, uint64_t> counts_;
  uint64_t total_ = 0;
};

}  // namespace waggle
