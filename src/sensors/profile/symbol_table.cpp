#include "sensors/profile/symbol_table.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace waggle {

uint32_t SymbolTable::add_name(std::string_view name) {
  uint32_t offset = uint32_t(names_.size());
  names_.append(name);
  names_.push_back('\0');
  return offset;
}

void SymbolTable::sort() {
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
}

bool SymbolTable::load_kallsyms(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = fmt::format("{}: {}", path, strerror(errno));
    return false;
  }
  symbols_.clear();
  names_.clear();
  add_name("");  // offset 0: the kernel itself, no module
  std::string line;
  std::string last_module;
  uint32_t last_module_offset = 0;
  bool any_address = false;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "ffffffffc0000000 t fn\t[module]"
    char* end = nullptr;
    uint64_t address = strtoull(line.c_str(), &end, 16);
    if (!end || *end != ' ' || end[1] == 0 || end[2] != ' ') continue;
    char type = end[1];
    if (address != 0) any_address = true;
    std::string_view rest(end + 3);
    std::string_view module;
    size_t tab = rest.find('\t');
    if (tab != std::string_view::npos) {
      module = rest.substr(tab + 1);
      rest = rest.substr(0, tab);
      if (module.size() >= 2 && module.front() == '[' && module.back() == ']')
        module = module.substr(1, module.size() - 2);
    }
    Symbol s{address, 0, 0, 0};
    // Every symbol ends where the next begins, whatever its type: a data symbol between two
    // functions ends the one before it.
    bool text = type == 't' || type == 'T' || type == 'w' || type == 'W';
    s.name = text ? add_name(rest) : UINT32_MAX;
    if (!module.empty()) {
      if (module != last_module) {
        last_module = std::string(module);
        last_module_offset = add_name(module);
      }
      s.module = last_module_offset;
    }
    symbols_.push_back(s);
  }
  if (!any_address) {
    *error = fmt::format("{}: every address is 0 (kernel.kptr_restrict hides them)", path);
    symbols_.clear();
    return false;
  }
  sort();
  // Each symbol ends at the next greater address: aliases at one address all keep it.
  for (size_t i = 0, next = 0; i < symbols_.size(); i++) {
    if (next <= i) next = i + 1;
    while (next < symbols_.size() && symbols_[next].start == symbols_[i].start) next++;
    symbols_[i].end = next < symbols_.size() ? symbols_[next].start : symbols_[i].start + 1;
  }
  // Keep only text symbols, now that each has its end.
  std::erase_if(symbols_, [](const Symbol& s) { return s.name == UINT32_MAX || s.end <= s.start; });
  symbols_.shrink_to_fit();
  return true;
}

bool SymbolTable::load_perf_map(const std::string& path, std::string* error) {
  // The file belongs to the profiled process: only a regular file, read without blocking and
  // up to a bound, so that a FIFO or a link to /dev/zero cannot stall or bloat the agent.
  constexpr off_t kMaxBytes = 64 << 20;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, strerror(errno));
    return false;
  }
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxBytes) {
    close(fd);
    *error = fmt::format("{}: not a regular file of at most 64 MiB", path);
    return false;
  }
  std::string text(size_t(st.st_size), '\0');
  ssize_t got = pread(fd, text.data(), text.size(), 0);
  close(fd);
  text.resize(got > 0 ? size_t(got) : 0);
  std::istringstream in(text);
  symbols_.clear();
  names_.clear();
  add_name("");
  std::string line;
  while (std::getline(in, line)) {
    char* end = nullptr;
    uint64_t start = strtoull(line.c_str(), &end, 16);
    if (!end || *end != ' ') continue;
    char* end2 = nullptr;
    uint64_t size = strtoull(end + 1, &end2, 16);
    if (!end2 || *end2 != ' ' || size == 0) continue;
    symbols_.push_back({start, start + size, add_name(end2 + 1), 0});
  }
  sort();
  return true;
}

std::optional<SymbolTable::Hit> SymbolTable::find(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Symbol& s) { return a < s.start; });
  if (it == symbols_.begin()) return std::nullopt;
  --it;
  if (address >= it->end) return std::nullopt;
  return Hit{std::string_view(names_.c_str() + it->name), std::string_view(names_.c_str() + it->module)};
}

std::string perf_map_path(pid_t pid) {
  // The innermost pid of "NSpid:\t4242\t17" is the one the process knows itself by.
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  pid_t own = pid;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    pid_t p;
    while (fields >> p) own = p;
    break;
  }
  return fmt::format("/proc/{}/root/tmp/perf-{}.map", pid, own);
}

}  // namespace waggle
