// Naming addresses in ELF files built here with g++ and objcopy: symbols from the file, from
// a debug file found by debuglink or by build-id under a debug root, PIE and non-PIE, and an
// address past a symbol's end.
#include "sensors/profile/elf_symbols.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace waggle {
namespace {

const char* kSource = R"(
int alpha(int x) { return x * 3 + 1; }
namespace ns { struct Shape { static int area(int w); }; int Shape::area(int w) { return w * w + alpha(w); } }
// Two bytes of code under a symbol sized one byte: its second byte is past its end.
__asm__(".text\n.globl sized\n.type sized,@function\nsized:\n nop\n nop\n.size sized,1\n");
int main(int argc, char**) { return ns::Shape::area(argc); }
)";

class ElfSymbolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/waggle-elf-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/prog.cpp") << kSource;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string run(const std::string& command) {
    std::string out;
    FILE* p = popen(("cd " + dir_ + " && " + command + " 2>&1").c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    status_ = pclose(p);
    return out;
  }
  // Builds `prog` from prog.cpp with these flags; returns its symbols' addresses (from nm).
  std::map<std::string, uint64_t> build(const std::string& flags) {
    std::string out = run("g++ -O1 -g -Wl,--build-id=sha1 " + flags + " prog.cpp -o prog");
    EXPECT_EQ(status_, 0) << out;
    std::map<std::string, uint64_t> symbols;
    std::stringstream nm(run("nm prog"));
    std::string line;
    while (std::getline(nm, line)) {
      std::stringstream fields(line);
      std::string address, type, symbol;
      if (fields >> address >> type >> symbol) symbols[symbol] = std::stoull(address, nullptr, 16);
    }
    return symbols;
  }
  ProfileFrame at(uint64_t vaddr, const std::string& debug_root = "/nonexistent") {
    std::string error;
    auto symbols = ElfFileSymbols::open(dir_ + "/prog", debug_root, &error);
    EXPECT_TRUE(symbols) << error;
    return symbols ? symbols->at(vaddr) : ProfileFrame{};
  }

  std::string dir_;
  int status_ = 0;
};

TEST_F(ElfSymbolsTest, NamesFromTheFilesOwnSymbolsPieAndNot) {
  for (std::string flags : {"-fPIE -pie", "-fno-pie -no-pie"}) {
    auto sym = build(flags);
    ASSERT_TRUE(sym.count("_Z5alphai")) << flags;
    ProfileFrame f = at(sym["_Z5alphai"] + 1);
    EXPECT_EQ(f.function, "alpha(int)") << flags;
    EXPECT_EQ(f.kind, FrameKind::kUser);
    EXPECT_EQ(f.module, dir_ + "/prog");
    EXPECT_EQ(at(sym["_ZN2ns5Shape4areaEi"]).function, "ns::Shape::area(int)") << flags;
    EXPECT_EQ(at(sym["sized"]).function, "sized") << flags;
  }
}

TEST_F(ElfSymbolsTest, AnAddressPastASymbolsEndIsModulePlusOffset) {
  for (std::string flags : {"-fPIE -pie", "-fno-pie -no-pie"}) {
    auto sym = build(flags);
    ProfileFrame f = at(sym["sized"] + 1);
    char expected[64];
    snprintf(expected, sizeof(expected), "prog+0x%llx", (unsigned long long)(sym["sized"] + 1));
    EXPECT_EQ(f.function, expected) << flags;
    EXPECT_EQ(f.kind, FrameKind::kUnknown);
  }
}

TEST_F(ElfSymbolsTest, StrippedFileNamedThroughItsDebuglink) {
  auto sym = build("-fPIE -pie");
  run("objcopy --only-keep-debug prog prog.debug && strip --strip-all prog && "
      "objcopy --add-gnu-debuglink=prog.debug prog");
  ASSERT_EQ(status_, 0);
  EXPECT_EQ(at(sym["_Z5alphai"]).function, "alpha(int)");
  // Without its debug file the stripped file has no name for it.
  std::filesystem::remove(dir_ + "/prog.debug");
  EXPECT_EQ(at(sym["_Z5alphai"]).kind, FrameKind::kUnknown);
}

TEST_F(ElfSymbolsTest, StrippedFileNamedByBuildIdUnderTheDebugRoot) {
  auto sym = build("-fno-pie -no-pie");
  std::string id = run("readelf -n prog | sed -n 's/.*Build ID: *//p'");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  ASSERT_EQ(id.size(), 40u) << id;
  std::string root = dir_ + "/debugroot";
  std::string where = root + "/.build-id/" + id.substr(0, 2);
  run("mkdir -p " + where + " && objcopy --only-keep-debug prog " + where + "/" + id.substr(2) +
      ".debug && strip --strip-all prog");
  ASSERT_EQ(status_, 0);
  EXPECT_EQ(at(sym["_ZN2ns5Shape4areaEi"], root).function, "ns::Shape::area(int)");
  EXPECT_EQ(at(sym["_ZN2ns5Shape4areaEi"], dir_ + "/elsewhere").kind, FrameKind::kUnknown);
}

TEST(Demangle, CxxNamesAndPlainNames) {
  EXPECT_EQ(demangle("_ZN2ns5Shape4areaEi"), "ns::Shape::area(int)");
  EXPECT_EQ(demangle("plain_c"), "plain_c");
  EXPECT_EQ(demangle("_Znot-valid"), "_Znot-valid");
}

}  // namespace
}  // namespace waggle
