// Address-sorted symbol tables that are not ELF: the kernel's /proc/kallsyms and the
// /tmp/perf-PID.map files JIT compilers write (Node's --perf-basic-prof).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waggle {

class SymbolTable {
 public:
  struct Symbol {
    uint64_t start = 0;
    uint64_t end = 0;     // exclusive
    uint32_t name = 0;    // offset into names_
    uint32_t module = 0;  // offset into names_ ("" for the kernel itself)
  };
  struct Hit {
    std::string_view name;
    std::string_view module;
  };

  // /proc/kallsyms format ("ADDR TYPE NAME [module]"); only text symbols are kept, each
  // ending where the next begins. False with *error when nothing could be read (or every
  // address is 0: kptr_restrict hides them).
  bool load_kallsyms(const std::string& path, std::string* error);
  // perf map format ("START SIZE NAME", hex): each symbol has its own size.
  bool load_perf_map(const std::string& path, std::string* error);

  std::optional<Hit> find(uint64_t address) const;
  size_t size() const { return symbols_.size(); }
  size_t bytes() const { return symbols_.capacity() * sizeof(Symbol) + names_.capacity(); }

 private:
  uint32_t add_name(std::string_view name);
  void sort();

  std::vector<Symbol> symbols_;
  std::string names_;
};

// Where a process's perf map is, read through its root (a container's /tmp is its own), and
// named by the pid the process has in its own pid namespace.
std::string perf_map_path(pid_t pid);

}  // namespace waggle
