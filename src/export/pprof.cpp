#include "export/pprof.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <map>
#include <new>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace waggle {

namespace {

// The protobuf wire format, as much of it as profile.proto needs. A nested message is written
// into its own writer and then copied in, length first: profiles are small next to the cost of
// sampling, and this keeps the writer trivial.
class ProtoWriter {
 public:
  // Scalars equal to zero are left out, as proto3 encoders do: readers take them as zero.
  void uint64(int field, uint64_t value) {
    if (value == 0) return;
    tag(field, kVarint);
    varint(value);
  }
  // Negative numbers take ten bytes (two's complement), as for protobuf's int64.
  void int64(int field, int64_t value) { uint64(field, uint64_t(value)); }
  void boolean(int field, bool value) { uint64(field, value ? 1 : 0); }
  // Always written, even when empty: string_table[0] is "" and must be there.
  void bytes(int field, std::string_view value) {
    tag(field, kLengthDelimited);
    varint(value.size());
    out_.append(value);
  }
  void message(int field, const ProtoWriter& message) { bytes(field, message.out_); }
  // Fields already encoded elsewhere, in order.
  void append(const ProtoWriter& fields) { out_.append(fields.out_); }
  // A packed repeated varint field: one tag and length for the whole list.
  void packed(int field, const std::vector<uint64_t>& values) {
    if (values.empty()) return;
    ProtoWriter list;
    for (uint64_t v : values) list.varint(v);
    message(field, list);
  }
  std::string take() { return std::move(out_); }

 private:
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;
  void tag(int field, int wire_type) { varint(uint64_t(field) << 3 | uint64_t(wire_type)); }
  void varint(uint64_t value) {
    for (; value >= 0x80; value >>= 7) out_.push_back(char(uint8_t(value) | 0x80));
    out_.push_back(char(value));
  }
  std::string out_;
};

// profile.proto's field numbers.
namespace field {
constexpr int kSampleType = 1, kSample = 2, kMapping = 3, kLocation = 4, kFunction = 5, kStringTable = 6,
              kTimeNanos = 9, kDurationNanos = 10, kPeriodType = 11, kPeriod = 12;
constexpr int kValueTypeType = 1, kValueTypeUnit = 2;
constexpr int kSampleLocationId = 1, kSampleValue = 2, kSampleLabel = 3;
constexpr int kLabelKey = 1, kLabelStr = 2, kLabelNum = 3;
constexpr int kMappingId = 1, kMappingFilename = 5, kMappingHasFunctions = 7;
constexpr int kLocationId = 1, kLocationMappingId = 2, kLocationLine = 4;
constexpr int kLineFunctionId = 1;
constexpr int kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3;
}  // namespace field

class StringTable {
 public:
  StringTable() { index(""); }
  int64_t index(const std::string& s) {
    auto [it, added] = indices_.try_emplace(s, int64_t(strings_.size()));
    if (added) strings_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string, int64_t> indices_;
  std::vector<std::string> strings_;
};

// Ids are 1-based: 0 means "none" in profile.proto.
template <typename Key>
uint64_t id_of(std::map<Key, uint64_t>& ids, const Key& key, bool* added) {
  auto [it, inserted] = ids.try_emplace(key, ids.size() + 1);
  *added = inserted;
  return it->second;
}

std::string mapping_file(const ProfileFrame& frame) {
  if (!frame.module.empty()) return frame.module;
  return frame.kind == FrameKind::kKernel ? "[kernel.kallsyms]" : "[unknown]";
}

ProtoWriter value_type(StringTable& strings, const std::string& type, const std::string& unit) {
  ProtoWriter w;
  w.int64(field::kValueTypeType, strings.index(type));
  w.int64(field::kValueTypeUnit, strings.index(unit));
  return w;
}

// One gzip member (zlib's windowBits 15 + 16), as pprof expects of a file.
std::string gzip(std::string_view data) {
  z_stream zs{};
  int rc = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK)
    throw std::runtime_error(std::string("zlib deflateInit2: ") + (zs.msg ? zs.msg : zError(rc)));
  std::string out;
  // avail_in is 32 bits wide: feed larger inputs in pieces.
  const auto* next = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  do {
    size_t piece = std::min<size_t>(left, UINT_MAX);
    zs.next_in = const_cast<Bytef*>(next);
    zs.avail_in = uInt(piece);
    next += piece;
    left -= piece;
    int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      char chunk[64 * 1024];
      zs.next_out = reinterpret_cast<Bytef*>(chunk);
      zs.avail_out = sizeof chunk;
      rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&zs);
        throw std::runtime_error("zlib deflate: stream error");
      }
      out.append(chunk, sizeof chunk - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (left > 0);
  deflateEnd(&zs);
  return out;
}

}  // namespace

std::string render_pprof(const Profile& profile) {
  StringTable strings;
  ProtoWriter out;
  out.message(field::kSampleType, value_type(strings, "samples", "count"));
  // Off-CPU samples are of blocked time: "off_cpu", as the OpenTelemetry profiler names it.
  const char* const time_type = profile.off_cpu ? "off_cpu" : "cpu";
  out.message(field::kSampleType, value_type(strings, time_type, "nanoseconds"));

  const std::vector<ProfileFrame>& frames = profile.frames();
  std::vector<ProfileStack> stacks = profile.stacks();

  // A Location for each frame that some stack uses; frames interned but never sampled stay out.
  std::vector<uint64_t> location_ids(frames.size(), 0);
  for (const ProfileStack& stack : stacks)
    for (uint32_t index : stack.frames) location_ids[index] = 1;
  std::map<std::string, uint64_t> mapping_ids;
  std::map<std::pair<std::string, std::string>, uint64_t> function_ids;
  ProtoWriter mappings, functions, locations;
  uint64_t next_location_id = 1;
  for (size_t i = 0; i < frames.size(); i++) {
    if (location_ids[i] == 0) continue;
    std::string file = mapping_file(frames[i]);
    bool added = false;
    uint64_t mapping_id = id_of(mapping_ids, file, &added);
    if (added) {
      ProtoWriter m;
      m.uint64(field::kMappingId, mapping_id);
      m.int64(field::kMappingFilename, strings.index(file));
      m.boolean(field::kMappingHasFunctions, true);
      mappings.message(field::kMapping, m);
    }
    uint64_t function_id = id_of(function_ids, {frames[i].function, file}, &added);
    if (added) {
      ProtoWriter f;
      f.uint64(field::kFunctionId, function_id);
      int64_t name = strings.index(frames[i].function);
      f.int64(field::kFunctionName, name);
      f.int64(field::kFunctionSystemName, name);  // pprof prints "(system name)" when they differ
      functions.message(field::kFunction, f);
    }
    location_ids[i] = next_location_id++;
    ProtoWriter line;
    line.uint64(field::kLineFunctionId, function_id);
    ProtoWriter l;
    l.uint64(field::kLocationId, location_ids[i]);
    l.uint64(field::kLocationMappingId, mapping_id);
    l.message(field::kLocationLine, line);
    locations.message(field::kLocation, l);
  }

  const int64_t process_key = strings.index("process");
  const int64_t pid_key = strings.index("pid");
  const int64_t period = profile.period_ns();
  ProtoWriter samples;
  for (const ProfileStack& stack : stacks) {
    ProtoWriter s;
    // pprof wants the leaf first; a Profile keeps the outermost frame first.
    std::vector<uint64_t> ids;
    ids.reserve(stack.frames.size());
    for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it) ids.push_back(location_ids[*it]);
    s.packed(field::kSampleLocationId, ids);
    s.packed(field::kSampleValue, {stack.samples, uint64_t(int64_t(stack.samples) * period)});
    ProtoWriter process;
    process.int64(field::kLabelKey, process_key);
    process.int64(field::kLabelStr, strings.index(stack.process));
    s.message(field::kSampleLabel, process);
    ProtoWriter pid;
    pid.int64(field::kLabelKey, pid_key);
    pid.int64(field::kLabelNum, stack.pid);
    s.message(field::kSampleLabel, pid);
    samples.message(field::kSample, s);
  }

  // Fields in profile.proto's order; the string table once every string has its index.
  out.append(samples);
  out.append(mappings);
  out.append(locations);
  out.append(functions);
  ProtoWriter period_type = value_type(strings, time_type, "nanoseconds");
  for (const std::string& s : strings.strings()) out.bytes(field::kStringTable, s);
  out.int64(field::kTimeNanos, profile.start_time_ns);
  out.int64(field::kDurationNanos, profile.duration_ns);
  out.message(field::kPeriodType, period_type);
  out.int64(field::kPeriod, period);
  return gzip(out.take());
}

}  // namespace waggle
