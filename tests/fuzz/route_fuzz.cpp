// libFuzzer harness for RouteNamer: the input's first line is the target, the other lines are
// patterns (used when they are all valid). A route is "*", "{other}" or a path.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/route_namer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string_view target = input.substr(0, nl);
  std::vector<std::string> patterns;
  for (std::string_view rest = nl == std::string_view::npos ? "" : input.substr(nl + 1); !rest.empty();) {
    const size_t end = rest.find('\n');
    patterns.emplace_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
  }
  std::string error;
  std::optional<waggle::protocols::RouteNamer> namer =
      waggle::protocols::RouteNamer::create(patterns, &error);
  if (!namer && error.empty()) __builtin_trap();
  const waggle::protocols::RouteNamer plain;
  for (const waggle::protocols::RouteNamer* n : {&plain, namer ? &*namer : &plain}) {
    const std::string route = n->route(target);
    if (route.empty() || (route[0] != '/' && route != "*" && route != "{other}")) __builtin_trap();
    if (route.find_first_of("?#") != std::string::npos) __builtin_trap();
  }
  waggle::protocols::RouteLimiter limiter(2);
  for (const std::string& p : patterns) limiter.admit(std::string(target), p);
  return 0;
}
