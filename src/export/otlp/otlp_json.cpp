#include "export/otlp/otlp_json.hpp"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "export/json_string.hpp"

namespace waggle::otlp {
namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kHex = "0123456789abcdef";

bool is_id_key(std::string_view key) { return key == "traceId" || key == "spanId" || key == "parentSpanId"; }

std::string base64_to_hex(std::string_view in) {
  std::string out;
  uint32_t bits = 0;
  int n = 0;
  for (char c : in) {
    size_t v = kBase64.find(c);
    if (v == std::string_view::npos) break;  // '=' padding
    bits = bits << 6 | uint32_t(v);
    n += 6;
    if (n >= 8) {
      n -= 8;
      uint8_t byte = uint8_t(bits >> n);
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

std::string hex_to_base64(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    size_t hi = kHex.find(char(std::tolower(hex[i]))), lo = kHex.find(char(std::tolower(hex[i + 1])));
    if (hi == std::string_view::npos || lo == std::string_view::npos) return std::string(hex);  // let the parser complain
    bytes.push_back(char(hi << 4 | lo));
  }
  std::string out;
  append_base64(out, bytes);
  return out;
}

// Rewrites every id field in `j` with `convert`.
void convert_ids(nlohmann::json& j, std::string (*convert)(std::string_view)) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      if (is_id_key(key) && value.is_string())
        value = convert(value.get_ref<const std::string&>());
      else
        convert_ids(value, convert);
    }
  } else if (j.is_array()) {
    for (auto& item : j) convert_ids(item, convert);
  }
}

}  // namespace

bool to_otlp_json(const google::protobuf::Message& message, std::string* out, std::string* error) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    *error = std::string(status.message());
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) {
    *error = "protobuf wrote JSON that does not parse";
    return false;
  }
  convert_ids(j, base64_to_hex);
  *out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

bool from_otlp_json(const std::string& json, google::protobuf::Message* message, std::string* error) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) {
    *error = "not JSON";
    return false;
  }
  convert_ids(j, hex_to_base64);
  auto status = google::protobuf::util::JsonStringToMessage(
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), message);
  if (!status.ok()) {
    *error = std::string(status.message());
    return false;
  }
  return true;
}

}  // namespace waggle::otlp
