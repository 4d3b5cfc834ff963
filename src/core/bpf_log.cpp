#include "core/bpf_log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <vector>

namespace waggle {
namespace {

thread_local std::string captured;

int print_to_buffer(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // The verifier's log arrives as one message of any length: size it first.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  size_t at = captured.size();
  captured.resize(at + n + 1);
  vsnprintf(captured.data() + at, n + 1, format, args);
  captured.resize(at + n);
  return n;
}

}  // namespace

void capture_libbpf_log() { libbpf_set_print(print_to_buffer); }

std::string take_libbpf_log() {
  std::string out;
  out.swap(captured);
  return out;
}

std::string trim_verifier_log(const std::string& log, size_t max_lines) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i + 1 < log.size(); i++)
    if (log[i] == '\n') starts.push_back(i + 1);
  if (starts.size() <= max_lines) return log;
  return "...\n" + log.substr(starts[starts.size() - max_lines]);
}

}  // namespace waggle
