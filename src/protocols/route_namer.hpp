// Low-cardinality names for HTTP request targets ("/users/{id}" for "/users/42?x=1"), for
// grouping exchanges, and a per-service cap on how many distinct names are kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace waggle::protocols {

class RouteNamer {
 public:
  // Patterns are paths: they start with '/', a segment "{name}" (name: letters, digits, '_')
  // matches exactly one segment, a final segment "*" matches one or more remaining segments
  // ("/static/*" matches "/static/" and "/static/a/b", not "/static"). Empty segments ("//"),
  // '?', '#', whitespace and control bytes are refused, as are braces or '*' that do not make up
  // a whole segment. On a bad pattern returns nullopt and sets *error, when `error` is not null
  // (which pattern and why).
  static std::optional<RouteNamer> create(std::vector<std::string> patterns, std::string* error);

  RouteNamer() = default;  // no patterns: the heuristic alone

  // The route of a request target: the query and fragment are dropped, an absolute-form target
  // ("http://host/path") gives its path, and an empty path is "/". The first pattern that
  // matches names it; otherwise every ID-like segment becomes "{id}": all digits, a UUID, a hex
  // string of 8+ characters with a digit in it, or a 16+ character run of letters and digits
  // with both in it. Ordinary words ("users", "v2", "index.html") stay. "*" (OPTIONS) stays "*";
  // other targets that are not paths (CONNECT's host:port) are "{other}".
  std::string route(std::string_view target) const;

  // True when `segment` looks like an identifier (the rules above).
  static bool is_id_segment(std::string_view segment);

 private:
  struct Pattern {
    std::string text;
    std::vector<std::string> segments;  // "{...}" for a parameter, "*" for the rest
    bool rest = false;                  // ends with "*"
  };

  bool matches(const Pattern& pattern, const std::vector<std::string_view>& segments) const;

  std::vector<Pattern> patterns_;
};

// Caps the number of distinct routes per service: once a service has max_routes of them, any
// new one is reported as kOverflowRoute and counted. Memory: max_routes names per service (the
// caller bounds the services).
class RouteLimiter {
 public:
  static constexpr std::string_view kOverflowRoute = "/{other}";

  explicit RouteLimiter(size_t max_routes) : max_routes_(max_routes) {}

  // `route`, or kOverflowRoute when the service already has max_routes others.
  std::string admit(const std::string& service, const std::string& route);

  // Times admit() returned kOverflowRoute.
  uint64_t overflowed() const { return overflowed_; }

 private:
  size_t max_routes_;
  std::unordered_map<std::string, std::unordered_set<std::string>> routes_;
  uint64_t overflowed_ = 0;
};

}  // namespace waggle::protocols
