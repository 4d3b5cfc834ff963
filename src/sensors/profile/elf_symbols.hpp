// Naming addresses in ELF files through libdwfl: the file's .symtab, else the debug file found
// by build-id or debuglink under a debug root, else .dynsym; C++ names demangled. An address
// outside every symbol's size is "module+0xOFFSET", never the nearest name before it.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/profile.hpp"

namespace waggle {

// The demangled form of a C++ (Itanium ABI) name; other names unchanged.
std::string demangle(const char* name);

// The debuginfo_path libdwfl searches for debug files: beside the file, in its .debug
// directory, and under debug_root (by build-id and by the file's own directory).
std::string debuginfo_search_path(const std::string& debug_root);

// The frame for address `pc` (an address inside mod, as mapped), the module named by the
// path it was reported with.
ProfileFrame symbolize_module_address(Dwfl_Module* mod, Dwarf_Addr pc);

// The module-relative address (the ELF file's own virtual address) of pc.
uint64_t module_address(Dwfl_Module* mod, Dwarf_Addr pc);

// The module's build-id in hex, or empty.
std::string module_build_id(Dwfl_Module* mod);

// One ELF file on its own, addresses as the file's virtual addresses: for tests and tools.
class ElfFileSymbols {
 public:
  static std::unique_ptr<ElfFileSymbols> open(const std::string& path, const std::string& debug_root,
                                              std::string* error);
  ~ElfFileSymbols();
  ProfileFrame at(uint64_t vaddr);

 private:
  ElfFileSymbols() = default;
  std::string debuginfo_path_;
  char* debuginfo_ptr_ = nullptr;  // libdwfl keeps a pointer to this pointer
  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  uint64_t bias_ = 0;
};

}  // namespace waggle
