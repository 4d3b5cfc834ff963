// One process's unwinding context: libdwfl's view of its mappings, with the CFI of each
// mapped file read on first use. Unwinds a sample's user stack from the registers and stack
// copy the kernel took, using .eh_frame (or .debug_frame), and falling back to frame pointers
// where a file has no unwind information (libdw's x86-64 backend does that).
#pragma once

#include <elfutils/libdwfl.h>
#include <linux/types.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sensors/profile/profile_record.h"

namespace waggle {

class ProcessUnwinder {
 public:
  // Reads /proc/PID/maps now; files are opened through /proc/PID/root, so the paths of a
  // process in a container resolve in its own mount namespace.
  static std::unique_ptr<ProcessUnwinder> open(pid_t pid, const std::string& debug_root, std::string* error);
  ~ProcessUnwinder();
  ProcessUnwinder(const ProcessUnwinder&) = delete;
  ProcessUnwinder& operator=(const ProcessUnwinder&) = delete;

  // Appends the sample's user frames to *pcs, innermost first. Each pc but the first is a
  // return address less one, so that it falls inside the call instruction's function.
  void unwind(const wg_profile_sample& sample, size_t size, size_t max_frames, std::vector<uint64_t>* pcs);
  // The module mapped at pc, or null (anonymous memory: JIT code, or a mapping made after
  // this context was built).
  Dwfl_Module* module_at(uint64_t pc) const { return dwfl_addrmodule(dwfl_, pc); }
  pid_t pid() const { return pid_; }
  const std::string& root() const { return root_; }

 private:
  ProcessUnwinder() = default;
  static int find_elf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base, char** file_name,
                      Elf** elfp);
  static pid_t next_thread(Dwfl* dwfl, void* arg, void** thread_arg);
  static bool get_thread(Dwfl* dwfl, pid_t tid, void* arg, void** thread_arg);
  static bool memory_read(Dwfl* dwfl, Dwarf_Addr addr, Dwarf_Word* result, void* arg);
  static bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg);
  static int on_frame(Dwfl_Frame* frame, void* arg);

  pid_t pid_ = 0;
  std::string root_;  // "/proc/PID/root"
  std::string debuginfo_path_;
  char* debuginfo_ptr_ = nullptr;
  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
  bool attached_ = false;
  // The sample being unwound.
  const wg_profile_sample* sample_ = nullptr;
  size_t stack_len_ = 0;
  size_t max_frames_ = 0;
  std::vector<uint64_t>* pcs_ = nullptr;
};

}  // namespace waggle
