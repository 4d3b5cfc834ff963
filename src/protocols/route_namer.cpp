#include "protocols/route_namer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace waggle::protocols {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Splits a path ("/a/b") into its segments ("a", "b"); "/" has none, "/a/" has "a" and "".
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// Why `segment` of a pattern is invalid, or empty.
std::string check_segment(std::string_view segment, bool last) {
  if (segment.empty()) return last ? "" : "empty segment (\"//\")";
  for (unsigned char c : segment) {
    if (c <= 0x20 || c == 0x7F) return "whitespace or control character";
    if (c == '?' || c == '#') return "'?' and '#' cannot appear in a path";
  }
  if (segment == "*") return last ? "" : "'*' must be the last segment";
  if (segment.find('*') != std::string_view::npos) return "'*' must be a whole segment";
  if (segment.front() == '{' && segment.back() == '}' && segment.size() > 2) {
    const std::string_view name = segment.substr(1, segment.size() - 2);
    const bool ok =
        std::all_of(name.begin(), name.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
    if (ok) return "";
    return fmt::format("invalid parameter name \"{}\" (letters, digits and '_')", name);
  }
  if (segment.find_first_of("{}") != std::string_view::npos) return "'{name}' must be a whole segment";
  return "";
}

}  // namespace

std::optional<RouteNamer> RouteNamer::create(std::vector<std::string> patterns, std::string* error) {
  RouteNamer namer;
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string& text = patterns[i];
    const auto bad = [&](std::string_view why) {
      if (error) *error = fmt::format("route pattern {} \"{}\": {}", i + 1, text, why);
      return std::nullopt;
    };
    if (text.empty() || text[0] != '/') return bad("must start with '/'");
    Pattern pattern;
    const std::vector<std::string_view> segments = split_path(text);
    for (size_t s = 0; s < segments.size(); ++s) {
      const std::string why = check_segment(segments[s], s + 1 == segments.size());
      if (!why.empty()) return bad(why);
      pattern.segments.emplace_back(segments[s]);
    }
    pattern.rest = !pattern.segments.empty() && pattern.segments.back() == "*";
    if (pattern.rest) pattern.segments.pop_back();
    pattern.text = std::move(text);
    namer.patterns_.push_back(std::move(pattern));
  }
  return namer;
}

bool RouteNamer::is_id_segment(std::string_view s) {
  if (s.empty()) return false;
  if (std::all_of(s.begin(), s.end(), is_digit)) return true;
  if (is_uuid(s)) return true;
  const bool has_digit = std::any_of(s.begin(), s.end(), is_digit);
  if (s.size() >= 8 && has_digit && std::all_of(s.begin(), s.end(), is_hex)) return true;
  return s.size() >= 16 && has_digit && std::any_of(s.begin(), s.end(), is_alpha) &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c); });
}

bool RouteNamer::matches(const Pattern& pattern, const std::vector<std::string_view>& segments) const {
  if (pattern.rest ? segments.size() <= pattern.segments.size()
                   : segments.size() != pattern.segments.size()) {
    return false;
  }
  for (size_t i = 0; i < pattern.segments.size(); ++i) {
    const std::string& p = pattern.segments[i];
    const bool param = p.size() > 2 && p.front() == '{' && p.back() == '}';
    if (param ? segments[i].empty() : p != segments[i]) return false;
  }
  return true;
}

std::string RouteNamer::route(std::string_view target) const {
  // Absolute form: drop "scheme://authority".
  if (const size_t scheme_end = target.find("://");
      scheme_end != std::string_view::npos && scheme_end > 0 &&
      std::all_of(target.begin(), target.begin() + scheme_end,
                  [](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; })) {
    target.remove_prefix(scheme_end + 3);
    const size_t path = target.find_first_of("/?#");
    target =
        path == std::string_view::npos || target[path] != '/' ? std::string_view("/") : target.substr(path);
  }
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty()) return "/";
  if (target == "*") return "*";
  if (target[0] != '/') return "{other}";

  const std::vector<std::string_view> segments = split_path(target);
  for (const Pattern& pattern : patterns_) {
    if (matches(pattern, segments)) return pattern.text;
  }
  std::string out;
  out.reserve(target.size());
  for (std::string_view segment : segments) {
    out += '/';
    if (is_id_segment(segment)) {
      out += "{id}";
    } else {
      out += segment;
    }
  }
  return out.empty() ? "/" : out;
}

std::string RouteLimiter::admit(const std::string& service, const std::string& route) {
  std::unordered_set<std::string>& known = routes_[service];
  if (known.count(route) > 0) return route;
  if (known.size() >= max_routes_) {
    ++overflowed_;
    return std::string(kOverflowRoute);
  }
  known.insert(route);
  return route;
}

}  // namespace waggle::protocols
