// pprof's gzipped profile.proto: decoded here field by field, then read by `go tool pprof`.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "export/folded.hpp"
#include "export/pprof.hpp"

namespace waggle {
namespace {

namespace fs = std::filesystem;

std::string gunzip(const std::string& in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);  // gzip only: a bare zlib stream fails
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char chunk[4096];
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u) << "bytes after the gzip member";
  inflateEnd(&zs);
  return out;
}

// A protobuf message, as the wire has it: every field is a varint or length-delimited, the
// only wire types profile.proto uses.
struct Field {
  int number = 0;
  uint64_t varint = 0;
  std::string bytes;
};

uint64_t read_varint(const std::string& s, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; *pos < s.size() && shift < 64; shift += 7) {
    uint8_t b = uint8_t(s[(*pos)++]);
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  ADD_FAILURE() << "truncated varint";
  return v;
}

std::vector<Field> decode(const std::string& s) {
  std::vector<Field> fields;
  size_t pos = 0;
  while (pos < s.size()) {
    uint64_t tag = read_varint(s, &pos);
    Field f{int(tag >> 3)};
    if ((tag & 7) == 0) {
      f.varint = read_varint(s, &pos);
    } else if ((tag & 7) == 2) {
      uint64_t n = read_varint(s, &pos);
      if (n > s.size() - pos) {
        ADD_FAILURE() << "length " << n << " past the end";
        break;
      }
      f.bytes = s.substr(pos, n);
      pos += n;
    } else {
      ADD_FAILURE() << "unexpected wire type " << (tag & 7) << " for field " << f.number;
      break;
    }
    fields.push_back(f);
  }
  return fields;
}

std::vector<uint64_t> packed(const std::string& s) {
  std::vector<uint64_t> values;
  for (size_t pos = 0; pos < s.size();) values.push_back(read_varint(s, &pos));
  return values;
}

std::vector<Field> all(const std::vector<Field>& fields, int number) {
  std::vector<Field> out;
  for (const Field& f : fields)
    if (f.number == number) out.push_back(f);
  return out;
}

// The varint of a field that appears at most once; 0 when absent, as proto3 reads it.
uint64_t scalar(const std::vector<Field>& fields, int number) {
  std::vector<Field> found = all(fields, number);
  EXPECT_LE(found.size(), 1u) << "field " << number << " repeated";
  return found.empty() ? 0 : found[0].varint;
}

// The parts of profile.proto the exporter writes, with ids resolved to names.
struct DecodedSample {
  std::vector<std::string> functions;  // leaf first, as stored
  std::vector<int64_t> values;
  std::map<std::string, std::string> str_labels;
  std::map<std::string, int64_t> num_labels;
};
struct DecodedProfile {
  std::vector<std::string> strings;
  std::vector<std::pair<std::string, std::string>> sample_types;
  std::pair<std::string, std::string> period_type;
  int64_t period = 0, time_nanos = 0, duration_nanos = 0;
  std::vector<DecodedSample> samples;
  std::set<std::pair<std::string, std::string>> function_modules;  // (function name, mapping file)
  size_t functions = 0, locations = 0, mappings = 0;
};

DecodedProfile decode_profile(const std::string& proto) {
  DecodedProfile d;
  std::vector<Field> top = decode(proto);
  for (const Field& f : all(top, 6)) d.strings.push_back(f.bytes);
  auto str = [&](uint64_t i) {
    EXPECT_LT(i, d.strings.size());
    return i < d.strings.size() ? d.strings[i] : "<bad index>";
  };
  for (const Field& f : all(top, 1)) {
    std::vector<Field> vt = decode(f.bytes);
    d.sample_types.emplace_back(str(scalar(vt, 1)), str(scalar(vt, 2)));
  }
  std::vector<Field> pt = decode(all(top, 11).at(0).bytes);
  d.period_type = {str(scalar(pt, 1)), str(scalar(pt, 2))};
  d.period = int64_t(scalar(top, 12));
  d.time_nanos = int64_t(scalar(top, 9));
  d.duration_nanos = int64_t(scalar(top, 10));

  std::map<uint64_t, std::string> mapping_file, function_name;
  for (const Field& f : all(top, 3)) {
    std::vector<Field> m = decode(f.bytes);
    EXPECT_EQ(scalar(m, 7), 1u) << "has_functions: pprof must not re-symbolize";
    EXPECT_TRUE(mapping_file.emplace(scalar(m, 1), str(scalar(m, 5))).second) << "duplicate mapping id";
  }
  for (const Field& f : all(top, 5)) {
    std::vector<Field> fn = decode(f.bytes);
    EXPECT_EQ(scalar(fn, 2), scalar(fn, 3)) << "system_name differs from name";
    EXPECT_TRUE(function_name.emplace(scalar(fn, 1), str(scalar(fn, 2))).second) << "duplicate function id";
  }
  std::map<uint64_t, std::string> location_function;
  for (const Field& f : all(top, 4)) {
    std::vector<Field> l = decode(f.bytes);
    std::vector<Field> lines = all(l, 4);
    EXPECT_EQ(lines.size(), 1u);
    std::string name = function_name.at(scalar(decode(lines.at(0).bytes), 1));
    std::string file = mapping_file.at(scalar(l, 2));
    d.function_modules.emplace(name, file);
    EXPECT_TRUE(location_function.emplace(scalar(l, 1), name).second) << "duplicate location id";
  }
  d.mappings = mapping_file.size();
  d.functions = function_name.size();
  d.locations = location_function.size();
  EXPECT_FALSE(mapping_file.contains(0) || function_name.contains(0) || location_function.contains(0))
      << "0 is not a valid id";

  for (const Field& f : all(top, 2)) {
    std::vector<Field> s = decode(f.bytes);
    DecodedSample sample;
    for (const Field& ids : all(s, 1))
      for (uint64_t id : packed(ids.bytes)) sample.functions.push_back(location_function.at(id));
    for (const Field& values : all(s, 2))
      for (uint64_t v : packed(values.bytes)) sample.values.push_back(int64_t(v));
    for (const Field& label : all(s, 3)) {
      std::vector<Field> l = decode(label.bytes);
      if (scalar(l, 2) != 0)
        sample.str_labels[str(scalar(l, 1))] = str(scalar(l, 2));
      else
        sample.num_labels[str(scalar(l, 1))] = int64_t(scalar(l, 3));
    }
    d.samples.push_back(sample);
  }
  return d;
}

// "app" runs under two pids; the kernel frame has no module; "f" exists in two modules.
Profile sample_profile() {
  Profile p;
  p.frequency_hz = 19;
  p.start_time_ns = 1765000000123456789;
  p.duration_ns = 10'000'000'000;
  uint32_t main_f = p.intern({"main", "/usr/bin/app", FrameKind::kUser});
  uint32_t push = p.intern({"std::vector<int>::push_back(int const&)", "/usr/bin/app", FrameKind::kUser});
  uint32_t f_app = p.intern({"f", "/usr/bin/app", FrameKind::kUser});
  uint32_t f_lib = p.intern({"f", "/usr/lib/libx.so", FrameKind::kUser});
  uint32_t sys = p.intern({"do_syscall_64", "", FrameKind::kKernel});
  uint32_t read = p.intern({"ksys_read", "[kernel.kallsyms]", FrameKind::kKernel});
  p.intern({"never_sampled", "/usr/bin/app", FrameKind::kUser});
  uint32_t s1[] = {main_f, push};
  uint32_t s2[] = {main_f, f_app, f_lib, sys, read};
  p.add("app", 10, s1, 3);
  p.add("app", 11, s1, 2);
  p.add("app;x", 12, s2, 7);
  return p;
}

TEST(PprofExport, IsOneGzipMember) {
  std::string gz = render_pprof(sample_profile());
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(uint8_t(gz[0]), 0x1f);
  EXPECT_EQ(uint8_t(gz[1]), 0x8b);
  EXPECT_FALSE(gunzip(gz).empty());
}

TEST(PprofExport, HeaderHasSampleTypesPeriodAndTimes) {
  Profile p = sample_profile();
  DecodedProfile d = decode_profile(gunzip(render_pprof(p)));
  ASSERT_FALSE(d.strings.empty());
  EXPECT_EQ(d.strings[0], "");
  EXPECT_EQ(std::count(d.strings.begin(), d.strings.end(), "app"), 1) << "strings are interned once";
  using Type = std::pair<std::string, std::string>;
  EXPECT_EQ(d.sample_types, (std::vector<Type>{{"samples", "count"}, {"cpu", "nanoseconds"}}));
  EXPECT_EQ(d.period_type, (Type{"cpu", "nanoseconds"}));
  EXPECT_EQ(d.period, 52631578);
  EXPECT_EQ(d.time_nanos, 1765000000123456789);
  EXPECT_EQ(d.duration_nanos, 10'000'000'000);
}

TEST(PprofExport, OffCpuProfilesAreOfBlockedTime) {
  Profile p = sample_profile();
  p.off_cpu = true;
  DecodedProfile d = decode_profile(gunzip(render_pprof(p)));
  using Type = std::pair<std::string, std::string>;
  EXPECT_EQ(d.sample_types, (std::vector<Type>{{"samples", "count"}, {"off_cpu", "nanoseconds"}}));
  EXPECT_EQ(d.period_type, (Type{"off_cpu", "nanoseconds"}));
  EXPECT_EQ(d.period, 52631578);
}

TEST(PprofExport, SamplesAreLeafFirstWithValuesAndLabels) {
  DecodedProfile d = decode_profile(gunzip(render_pprof(sample_profile())));
  ASSERT_EQ(d.samples.size(), 3u);  // Profile::stacks order: process, pid, frames
  const std::vector<std::string> short_stack = {"std::vector<int>::push_back(int const&)", "main"};
  EXPECT_EQ(d.samples[0].functions, short_stack);
  EXPECT_EQ(d.samples[0].values, (std::vector<int64_t>{3, 3 * 52631578LL}));
  EXPECT_EQ(d.samples[0].str_labels, (std::map<std::string, std::string>{{"process", "app"}}));
  EXPECT_EQ(d.samples[0].num_labels, (std::map<std::string, int64_t>{{"pid", 10}}));
  EXPECT_EQ(d.samples[1].functions, short_stack);
  EXPECT_EQ(d.samples[1].values, (std::vector<int64_t>{2, 2 * 52631578LL}));
  EXPECT_EQ(d.samples[1].num_labels.at("pid"), 11);
  EXPECT_EQ(d.samples[2].functions,
            (std::vector<std::string>{"ksys_read", "do_syscall_64", "f", "f", "main"}));
  EXPECT_EQ(d.samples[2].values, (std::vector<int64_t>{7, 7 * 52631578LL}));
  EXPECT_EQ(d.samples[2].str_labels.at("process"), "app;x");
  EXPECT_EQ(d.samples[2].num_labels.at("pid"), 12);
}

TEST(PprofExport, OneMappingPerModuleAndOneFunctionPerNameAndModule) {
  DecodedProfile d = decode_profile(gunzip(render_pprof(sample_profile())));
  EXPECT_EQ(d.mappings, 3u);   // app, libx.so, [kernel.kallsyms]
  EXPECT_EQ(d.functions, 6u);  // "f" twice: two modules
  EXPECT_EQ(d.locations, 6u);  // the never sampled frame is left out
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(d.function_modules, (std::set<Pair>{{"main", "/usr/bin/app"},
                                                {"std::vector<int>::push_back(int const&)", "/usr/bin/app"},
                                                {"f", "/usr/bin/app"},
                                                {"f", "/usr/lib/libx.so"},
                                                {"do_syscall_64", "[kernel.kallsyms]"},
                                                {"ksys_read", "[kernel.kallsyms]"}}));
}

TEST(PprofExport, EmptyProfileStillHasTheHeader) {
  Profile p;
  DecodedProfile d = decode_profile(gunzip(render_pprof(p)));
  EXPECT_EQ(d.strings.at(0), "");
  EXPECT_EQ(d.sample_types.size(), 2u);
  EXPECT_TRUE(d.samples.empty());
  EXPECT_EQ(d.period, 52631578);
}

// A temporary directory, removed however the test ends.
struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "waggle-pprof-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  std::string path;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct PprofRun {
  bool ok = false;
  std::string out, err;
};

// `go tool pprof ARGS PROFILE`, with pprof's $HOME/pprof and go's cache inside `dir`.
PprofRun run_pprof(const TempDir& dir, const std::string& args, const std::string& profile) {
  std::string command = "env HOME=" + dir.path + " GOCACHE=" + dir.path + "/cache /usr/bin/go tool pprof " +
                        args + " " + profile + " >" + dir.path + "/out 2>" + dir.path + "/err";
  int status = std::system(command.c_str());
  PprofRun run{WIFEXITED(status) && WEXITSTATUS(status) == 0, read_file(dir.path + "/out"),
               read_file(dir.path + "/err")};
  if (!run.ok) run.err = command + "\n" + run.err;
  return run;
}

// Writes the profile's pprof file into `dir`; its path.
std::string write_pprof(const TempDir& dir, const Profile& p) {
  std::string file = dir.path + "/cpu.pb.gz";
  std::ofstream out(file, std::ios::binary);
  out << render_pprof(p);
  EXPECT_TRUE(out.good());
  return file;
}

// pprof's own reader is the judge: the stacks, labels and values `go tool pprof -raw` reads
// back, folded, must be exactly what the folded exporter writes. -symbolize=none: by default
// pprof shortens C++ names (drops parameters and template arguments) before printing.
TEST(PprofExport, GoToolPprofReadsTheSameStacksAsFolded) {
  if (!fs::exists("/usr/bin/go")) GTEST_SKIP() << "no /usr/bin/go (Debian golang-go)";
  Profile p = sample_profile();
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  PprofRun run = run_pprof(dir, "-symbolize=none -raw", write_pprof(dir, p));
  ASSERT_TRUE(run.ok) << run.err;
  const std::string& raw = run.out;

  EXPECT_NE(raw.find("PeriodType: cpu nanoseconds\nPeriod: 52631578\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\nSamples:\nsamples/count cpu/nanoseconds\n"), std::string::npos) << raw;

  // Locations: "     3: 0x0 M=1 NAME FILE:LINE s=START"; we write no file, line or start.
  std::map<std::string, std::string> function_of_location;
  const std::regex location(R"(^\s*(\d+): 0x0 M=\d+ (.*) :0 s=0$)");
  const std::regex sample(R"(^\s+(\d+)\s+(\d+): ([\d ]*)$)");
  const std::regex process_label(R"(^\s+process:\[(.*)\]$)");
  const std::regex pid_label(R"(^\s+pid:\[(\d+)\]$)");
  struct RawSample {
    uint64_t count = 0, nanos = 0;
    std::vector<std::string> locations;
    std::string process, pid;
  };
  std::vector<RawSample> samples;
  std::istringstream lines(raw);
  std::string section;
  for (std::string line; std::getline(lines, line);) {
    if (line == "Samples:" || line == "Locations" || line == "Mappings") {
      section = line;
      continue;
    }
    std::smatch m;
    if (section == "Samples:" && std::regex_match(line, m, sample)) {
      RawSample s{std::stoull(m[1]), std::stoull(m[2])};
      std::istringstream ids(m[3].str());
      for (std::string id; ids >> id;) s.locations.push_back(id);
      samples.push_back(s);
    } else if (section == "Samples:" && !samples.empty() && std::regex_match(line, m, process_label)) {
      samples.back().process = m[1];
    } else if (section == "Samples:" && !samples.empty() && std::regex_match(line, m, pid_label)) {
      samples.back().pid = m[1];
    } else if (section == "Locations" && std::regex_match(line, m, location)) {
      function_of_location[m[1]] = m[2];
    }
  }

  // Folded as render_folded writes it: each name with its ';' turned to ':'.
  auto escape = [](std::string name) {
    std::replace(name.begin(), name.end(), ';', ':');
    return name;
  };
  std::map<std::string, uint64_t> folded;
  uint64_t total_samples = 0, total_nanos = 0;
  for (const RawSample& s : samples) {
    std::string line = escape(s.process) + "-" + s.pid;
    for (auto it = s.locations.rbegin(); it != s.locations.rend(); ++it)
      line += ";" + escape(function_of_location.at(*it));
    folded[line] += s.count;
    total_samples += s.count;
    total_nanos += s.nanos;
  }
  std::string actual;
  for (const auto& [line, count] : folded) actual += line + " " + std::to_string(count) + "\n";

  FoldedOptions options;
  options.pid_in_process = true;
  options.annotate_kernel = false;
  EXPECT_EQ(actual, render_folded(p, options)) << raw;
  EXPECT_EQ(samples.size(), 3u);
  EXPECT_EQ(total_samples, p.total_samples());
  EXPECT_EQ(total_nanos, p.total_samples() * uint64_t(p.period_ns()));
}

// With its defaults pprof looks for binaries to symbolize unsymbolized mappings, and complains
// on standard error when they are missing: ours say they have functions already.
TEST(PprofExport, GoToolPprofDoesNotTryToSymbolize) {
  if (!fs::exists("/usr/bin/go")) GTEST_SKIP() << "no /usr/bin/go (Debian golang-go)";
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  PprofRun run = run_pprof(dir, "-top -nodecount=100", write_pprof(dir, sample_profile()));
  ASSERT_TRUE(run.ok) << run.err;
  EXPECT_EQ(run.err, "");
  // 12 samples of 52631578 ns.
  EXPECT_NE(run.out.find("Total samples = 631.58ms"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ksys_read"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace waggle
