// Where a loaded BPF program's JITed code comes from: first "F START BYTES" for each of its
// functions (the program and the global functions it calls), then one line per
// line-information record, "ADDRESS FILE:LINE SOURCE", ADDRESS the kernel address of the
// record's first JITed instruction (ascending within each function). bench/bpf_lines_run.py maps `perf record -a`
// samples onto these lines: a line-level profile of a BPF program, which perf itself gives only
// when built with a BPF disassembler.
//
// Usage (as root): build/bench/waggle_bpf_lines PROGRAM_ID...
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

bool print_lines(uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    fmt::print(stderr, "program {}: {}\n", id, strerror(errno));
    return false;
  }
  bpf_prog_info info = {};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
    fmt::print(stderr, "program {}: cannot read its information: {}\n", id, strerror(errno));
    close(fd);
    return false;
  }
  const uint32_t lines = info.nr_line_info, jited = info.nr_jited_line_info;
  const uint32_t line_size = info.line_info_rec_size, jited_size = info.jited_line_info_rec_size;
  const uint32_t btf_id = info.btf_id, functions = info.nr_jited_ksyms;
  if (lines == 0 || jited != lines || jited_size != sizeof(uint64_t) || btf_id == 0 || functions == 0 ||
      info.nr_jited_func_lens != functions) {
    fmt::print(stderr, "program {}: no line information for its JITed code (is the JIT on?)\n", id);
    close(fd);
    return false;
  }
  std::vector<char> line_info(size_t(lines) * line_size);
  std::vector<uint64_t> addresses(jited), starts(functions);
  std::vector<uint32_t> sizes(functions);
  info = {};
  info.nr_jited_ksyms = functions;
  info.jited_ksyms = reinterpret_cast<uint64_t>(starts.data());
  info.nr_jited_func_lens = functions;
  info.jited_func_lens = reinterpret_cast<uint64_t>(sizes.data());
  info.nr_line_info = lines;
  info.line_info_rec_size = line_size;
  info.line_info = reinterpret_cast<uint64_t>(line_info.data());
  info.nr_jited_line_info = jited;
  info.jited_line_info_rec_size = jited_size;
  info.jited_line_info = reinterpret_cast<uint64_t>(addresses.data());
  len = sizeof(info);
  const bool read = bpf_obj_get_info_by_fd(fd, &info, &len) == 0;
  close(fd);
  btf* types = read ? btf__load_from_kernel_by_id(btf_id) : nullptr;
  if (!types) {
    fmt::print(stderr, "program {}: cannot read its line information: {}\n", id, strerror(errno));
    return false;
  }
  for (uint32_t i = 0; i < functions; i++) fmt::print("F {:x} {}\n", starts[i], sizes[i]);
  for (uint32_t i = 0; i < lines; i++) {
    const auto* l = reinterpret_cast<const bpf_line_info*>(line_info.data() + size_t(i) * line_size);
    std::string_view file = btf__name_by_offset(types, l->file_name_off);
    const char* source = btf__name_by_offset(types, l->line_off);
    file.remove_prefix(file.rfind('/') == std::string_view::npos ? 0 : file.rfind('/') + 1);
    fmt::print("{:x} {}:{} {}\n", addresses[i], file, BPF_LINE_INFO_LINE_NUM(l->line_col), source ? source : "");
  }
  btf__free(types);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} PROGRAM_ID...\n", argv[0]);
    return 2;
  }
  bool ok = true;
  for (int i = 1; i < argc; i++) {
    char* end = nullptr;
    unsigned long id = strtoul(argv[i], &end, 10);
    if (*end || id == 0 || id > UINT32_MAX) {
      fmt::print(stderr, "expected a program id, got \"{}\"\n", argv[i]);
      return 2;
    }
    ok = print_lines(uint32_t(id)) && ok;
  }
  return ok ? 0 : 1;
}
