#include "core/proc_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <fstream>
#include <sstream>

namespace waggle {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : std::string();
}

}  // namespace

std::string container_id_from_cgroup(std::string_view cgroup) {
  size_t run = 0;
  for (size_t i = 0; i < cgroup.size(); i++) {
    if (std::isxdigit(static_cast<unsigned char>(cgroup[i])) &&
        !std::isupper(static_cast<unsigned char>(cgroup[i]))) {
      run++;
      bool ends = i + 1 == cgroup.size() || !std::isxdigit(static_cast<unsigned char>(cgroup[i + 1]));
      if (run == 64 && ends) return std::string(cgroup.substr(i + 1 - 64, 64));
    } else {
      run = 0;
    }
  }
  return {};
}

std::vector<std::string> split_args(std::string_view raw) {
  std::vector<std::string> args;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string_view::npos) end = raw.size();
    args.emplace_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::vector<std::string> split_cmdline(std::string_view raw) {
  std::vector<std::string> args = split_args(raw);
  while (!args.empty() && args.back().empty()) args.pop_back();
  return args;
}

std::optional<ProcessInfo> read_proc_process(const std::string& proc_root, uint32_t pid, const HostInfo& host,
                                             const std::string& cgroup2_root) {
  std::string dir = proc_root + "/" + std::to_string(pid);
  std::string stat = read_file(dir + "/stat");
  // Fields after the comm, which is in parentheses and may itself hold ')' and spaces.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcessInfo p;
  p.pid = pid;
  size_t open = stat.find('(');
  p.comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field) fields.push_back(field);
  // fields[0] is field 3 (state): ppid is field 4, starttime field 22.
  if (fields.size() < 20) return std::nullopt;
  p.ppid = std::stoul(fields[1]);
  uint64_t start_ticks = std::stoull(fields[19]);
  p.start_boottime_ns = start_ticks * (1000000000ull / host.clock_ticks);
  p.start_time_ns = host.wall_ns(p.start_boottime_ns);
  p.exec_id = host.exec_id(p.start_boottime_ns, pid);

  std::istringstream status(read_file(dir + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) p.uid = std::stoul(line.substr(4));
    if (line.rfind("Gid:", 0) == 0) p.gid = std::stoul(line.substr(4));
  }
  p.binary = read_link(dir + "/exe");
  p.cwd = read_link(dir + "/cwd");
  p.args = split_cmdline(read_file(dir + "/cmdline"));
  if (std::optional<std::string> path = cgroup2_path_of(proc_root, pid)) {
    p.container_id = container_id_from_cgroup(*path);
    p.cgroup_id = cgroup_id_of(cgroup2_root, *path);
  }
  return p;
}

std::optional<std::string> cgroup2_path_of(const std::string& proc_root, uint32_t pid) {
  std::istringstream cgroups(read_file(proc_root + "/" + std::to_string(pid) + "/cgroup"));
  std::string line;
  while (std::getline(cgroups, line)) {
    if (line.starts_with("0::")) return line.substr(3);
  }
  return std::nullopt;
}

uint64_t cgroup_id_of(const std::string& cgroup2_root, const std::string& path) {
  struct stat st {};
  if (cgroup2_root.empty() || ::stat((cgroup2_root + path).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

}  // namespace waggle
