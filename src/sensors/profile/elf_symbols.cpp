#include "sensors/profile/elf_symbols.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

namespace waggle {

std::string demangle(const char* name) {
  if (!name) return "";
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || !out) return name;
  std::string result(out);
  free(out);
  return result;
}

std::string debuginfo_search_path(const std::string& debug_root) { return ":.debug:" + debug_root; }

uint64_t module_address(Dwfl_Module* mod, Dwarf_Addr pc) {
  Dwarf_Addr bias = 0;
  if (!dwfl_module_getelf(mod, &bias)) {
    Dwarf_Addr start = 0;
    dwfl_module_info(mod, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
    return pc - start;
  }
  return pc - bias;
}

std::string module_build_id(Dwfl_Module* mod) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  std::string hex;
  for (int i = 0; i < len; i++) hex += fmt::format("{:02x}", bits[i]);
  return hex;
}

static std::string basename_of(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

ProfileFrame symbolize_module_address(Dwfl_Module* mod, Dwarf_Addr pc) {
  const char* name = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  ProfileFrame frame;
  frame.module = name ? name : "[unknown]";
  GElf_Off offset = 0;
  GElf_Sym sym{};
  const char* symbol = dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr);
  // libdwfl answers with the nearest symbol at or below pc; it covers pc only within its
  // size (a zero-size symbol covers its own address only).
  bool covers = symbol && (offset < sym.st_size || offset == 0);
  if (covers) {
    // Versioned dynamic symbols ("memcpy@@GLIBC_2.14") are named as in the source.
    std::string plain(symbol);
    if (size_t at = plain.find('@'); at != std::string::npos && at > 0) plain.resize(at);
    frame.function = demangle(plain.c_str());
    frame.kind = FrameKind::kUser;
  } else {
    frame.function = fmt::format("{}+0x{:x}", basename_of(frame.module.c_str()), module_address(mod, pc));
    frame.kind = FrameKind::kUnknown;
  }
  return frame;
}

std::unique_ptr<ElfFileSymbols> ElfFileSymbols::open(const std::string& path, const std::string& debug_root,
                                                     std::string* error) {
  std::unique_ptr<ElfFileSymbols> s(new ElfFileSymbols());
  s->debuginfo_path_ = debuginfo_search_path(debug_root);
  s->callbacks_.find_elf = dwfl_build_id_find_elf;
  s->callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
  s->callbacks_.section_address = dwfl_offline_section_address;
  s->debuginfo_ptr_ = s->debuginfo_path_.data();
  s->callbacks_.debuginfo_path = &s->debuginfo_ptr_;
  s->dwfl_ = dwfl_begin(&s->callbacks_);
  if (!s->dwfl_) {
    *error = fmt::format("libdwfl: {}", dwfl_errmsg(-1));
    return nullptr;
  }
  s->module_ = dwfl_report_offline(s->dwfl_, path.c_str(), path.c_str(), -1);
  dwfl_report_end(s->dwfl_, nullptr, nullptr);
  if (!s->module_) {
    *error = fmt::format("{}: {}", path, dwfl_errmsg(-1));
    return nullptr;
  }
  Dwarf_Addr bias = 0;
  if (!dwfl_module_getelf(s->module_, &bias)) {
    *error = fmt::format("{}: {}", path, dwfl_errmsg(-1));
    return nullptr;
  }
  s->bias_ = bias;
  return s;
}

ElfFileSymbols::~ElfFileSymbols() {
  if (dwfl_) dwfl_end(dwfl_);
}

ProfileFrame ElfFileSymbols::at(uint64_t vaddr) { return symbolize_module_address(module_, vaddr + bias_); }

}  // namespace waggle
