#include "sensors/profile/process_unwinder.hpp"

#include <dwarf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>

#include "sensors/profile/elf_symbols.hpp"

namespace waggle {

namespace {
// libdwfl's find_elf callback gets no user pointer: the context being built or used.
thread_local ProcessUnwinder* current = nullptr;

}  // namespace

int ProcessUnwinder::find_elf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base,
                              char** file_name, Elf** elfp) {
  *elfp = nullptr;
  // Modules carry their context (set once reported); `current` covers the report itself.
  auto* self = userdata && *userdata ? static_cast<ProcessUnwinder*>(*userdata) : current;
  if (!self || !name) return -1;
  // The vdso has no file: libdwfl reads it from the process's memory.
  if (name[0] != '/') return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
  // Only regular files: a mapped device or a FIFO planted by the process must not block us.
  std::string path = self->root_ + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return -1;
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return -1;
  }
  *file_name = strdup(path.c_str());
  return fd;
}

pid_t ProcessUnwinder::next_thread(Dwfl*, void* arg, void** thread_arg) {
  auto* self = static_cast<ProcessUnwinder*>(arg);
  if (*thread_arg || !self->sample_) return 0;
  *thread_arg = self;
  return pid_t(self->sample_->tid);
}

bool ProcessUnwinder::get_thread(Dwfl*, pid_t tid, void* arg, void** thread_arg) {
  auto* self = static_cast<ProcessUnwinder*>(arg);
  *thread_arg = self;
  return self->sample_ && pid_t(self->sample_->tid) == tid;
}

// Only the stack copy can be read: the process may be running on, or gone.
bool ProcessUnwinder::memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  auto* self = static_cast<ProcessUnwinder*>(arg);
  uint64_t sp = self->sample_->regs[7];
  if (addr < sp || self->stack_len_ < sizeof(Dwarf_Word) || addr - sp > self->stack_len_ - sizeof(Dwarf_Word))
    return false;
  memcpy(result, self->sample_->ustack + (addr - sp), sizeof(Dwarf_Word));
  return true;
}

bool ProcessUnwinder::set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
  auto* self = static_cast<ProcessUnwinder*>(thread_arg);
  Dwarf_Word regs[WG_PROFILE_REGS];
  for (int i = 0; i < WG_PROFILE_REGS; i++) regs[i] = self->sample_->regs[i];
  dwfl_thread_state_register_pc(thread, regs[16]);
  return dwfl_thread_state_registers(thread, 0, WG_PROFILE_REGS, regs);
}

int ProcessUnwinder::on_frame(Dwfl_Frame* frame, void* arg) {
  auto* self = static_cast<ProcessUnwinder*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation) || pc == 0) return DWARF_CB_ABORT;
  if (!activation) pc -= 1;
  self->pcs_->push_back(pc);
  return self->pcs_->size() >= self->max_frames_ ? DWARF_CB_ABORT : DWARF_CB_OK;
}

std::unique_ptr<ProcessUnwinder> ProcessUnwinder::open(pid_t pid, const std::string& debug_root,
                                                       std::string* error) {
  std::unique_ptr<ProcessUnwinder> u(new ProcessUnwinder());
  u->pid_ = pid;
  u->root_ = fmt::format("/proc/{}/root", pid);
  u->debuginfo_path_ = debuginfo_search_path(debug_root);
  u->debuginfo_ptr_ = u->debuginfo_path_.data();
  u->callbacks_.find_elf = &ProcessUnwinder::find_elf;
  u->callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
  u->callbacks_.debuginfo_path = &u->debuginfo_ptr_;
  u->dwfl_ = dwfl_begin(&u->callbacks_);
  if (!u->dwfl_) {
    *error = fmt::format("libdwfl: {}", dwfl_errmsg(-1));
    return nullptr;
  }
  current = u.get();
  dwfl_report_begin(u->dwfl_);
  int err = dwfl_linux_proc_report(u->dwfl_, pid);
  dwfl_report_end(u->dwfl_, nullptr, nullptr);
  // Files are opened lazily, also when frames are named outside unwind(): each module keeps
  // a pointer to its context for find_elf.
  dwfl_getmodules(
      u->dwfl_,
      [](Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, void* arg) {
        *userdata = arg;
        return int(DWARF_CB_OK);
      },
      u.get(), 0);
  if (err != 0) {
    current = nullptr;
    *error = fmt::format("process {}: cannot read its mappings: {}", pid,
                         err > 0 ? strerror(err) : dwfl_errmsg(-1));
    return nullptr;
  }
  static const Dwfl_Thread_Callbacks callbacks = {
      &ProcessUnwinder::next_thread, &ProcessUnwinder::get_thread, &ProcessUnwinder::memory_read,
      &ProcessUnwinder::set_initial_registers, nullptr, nullptr,
  };
  u->attached_ = dwfl_attach_state(u->dwfl_, nullptr, pid, &callbacks, u.get());
  current = nullptr;
  if (!u->attached_) {
    *error = fmt::format("process {}: cannot unwind: {}", pid, dwfl_errmsg(-1));
    return nullptr;
  }
  return u;
}

ProcessUnwinder::~ProcessUnwinder() {
  if (dwfl_) dwfl_end(dwfl_);
}

void ProcessUnwinder::unwind(const wg_profile_sample& sample, size_t size, size_t max_frames,
                             std::vector<uint64_t>* pcs) {
  size_t header = offsetof(wg_profile_sample, ustack);
  sample_ = &sample;
  stack_len_ = std::min<size_t>(sample.ustack_len, size > header ? size - header : 0);
  max_frames_ = max_frames;
  pcs_ = pcs;
  size_t before = pcs->size();
  current = this;
  dwfl_getthread_frames(dwfl_, pid_t(sample.tid), &ProcessUnwinder::on_frame, this);
  current = nullptr;
  // A thread libdwfl could not start on still has its interrupted pc.
  if (pcs->size() == before) pcs->push_back(sample.regs[16]);
  sample_ = nullptr;
  pcs_ = nullptr;
}

}  // namespace waggle
