// Route names for request targets: patterns first, then the ID heuristic; the cardinality cap.
#include "protocols/route_namer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace waggle::protocols {
namespace {

RouteNamer namer_ok(std::vector<std::string> patterns) {
  std::string error;
  std::optional<RouteNamer> namer = RouteNamer::create(std::move(patterns), &error);
  EXPECT_TRUE(namer.has_value()) << error;
  return namer.value_or(RouteNamer());
}

std::string pattern_error(const std::string& pattern) {
  std::string error;
  EXPECT_FALSE(RouteNamer::create({"/ok", pattern}, &error).has_value()) << pattern;
  return error;
}

TEST(RouteNamer, HeuristicReplacesIdLikeSegments) {
  const RouteNamer namer;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/users/42", "/users/{id}"},
      {"/users/42/orders/7", "/users/{id}/orders/{id}"},
      {"/items/123e4567-e89b-12d3-a456-426614174000", "/items/{id}"},
      {"/items/123E4567-E89B-12D3-A456-426614174000/x", "/items/{id}/x"},
      {"/blobs/9f86d081884c7d65", "/blobs/{id}"},  // hex with a digit, 8+ chars
      {"/blobs/abc12345", "/blobs/{id}"},
      {"/blobs/deadbeef", "/blobs/deadbeef"},                              // hex but no digit: a word
      {"/blobs/abc1234", "/blobs/abc1234"},                                // 7 characters
      {"/s/AbC123xYz789QrS0t1", "/s/{id}"},                                // 18 letters and digits, both
      {"/s/AbC123xYz789QrS0", "/s/{id}"},                                  // 16
      {"/s/AbC123xYz789QrS", "/s/AbC123xYz789QrS"},                        // 15
      {"/s/abcdefghijklmnopqrstuvwxyz", "/s/abcdefghijklmnopqrstuvwxyz"},  // no digit
      {"/s/user-profile-settings-v2", "/s/user-profile-settings-v2"},      // not only alnum
      {"/api/v2/index.html", "/api/v2/index.html"},
      {"/users", "/users"},
      {"/0", "/{id}"},
  };
  for (const auto& [target, route] : cases) EXPECT_EQ(namer.route(target), route) << target;
}

TEST(RouteNamer, QueryFragmentAbsoluteFormAndEmptyPaths) {
  const RouteNamer namer;
  EXPECT_EQ(namer.route("/search?q=42&page=3"), "/search");
  EXPECT_EQ(namer.route("/doc/7#section-2"), "/doc/{id}");
  EXPECT_EQ(namer.route("/a?x#y"), "/a");
  EXPECT_EQ(namer.route("http://example.com/users/42?x=1"), "/users/{id}");
  EXPECT_EQ(namer.route("HTTPS://example.com:8443/a/b"), "/a/b");
  EXPECT_EQ(namer.route("http://example.com"), "/");
  EXPECT_EQ(namer.route("http://example.com?q=1"), "/");
  EXPECT_EQ(namer.route(""), "/");
  EXPECT_EQ(namer.route("?q=1"), "/");
  EXPECT_EQ(namer.route("/"), "/");
  EXPECT_EQ(namer.route("/users/"), "/users/");
  EXPECT_EQ(namer.route("//"), "//");
  EXPECT_EQ(namer.route("*"), "*");
  EXPECT_EQ(namer.route("example.com:443"), "{other}");
}

TEST(RouteNamer, FirstMatchingPatternWins) {
  const RouteNamer namer =
      namer_ok({"/users/me", "/users/{user_id}", "/users/{user_id}/posts/{post}", "/static/*", "/"});
  EXPECT_EQ(namer.route("/users/me"), "/users/me");
  EXPECT_EQ(namer.route("/users/alice"), "/users/{user_id}");
  EXPECT_EQ(namer.route("/users/alice?tab=1"), "/users/{user_id}");
  EXPECT_EQ(namer.route("/users/alice/posts/hello-world"), "/users/{user_id}/posts/{post}");
  EXPECT_EQ(namer.route("/static/"), "/static/*");
  EXPECT_EQ(namer.route("/static/css/site.css"), "/static/*");
  EXPECT_EQ(namer.route("/"), "/");
  // No pattern: the heuristic.
  EXPECT_EQ(namer.route("/static"), "/static");  // "*" needs a segment
  EXPECT_EQ(namer.route("/users/"), "/users/");  // a parameter does not match ""
  EXPECT_EQ(namer.route("/users/7/posts"), "/users/{id}/posts");
  EXPECT_EQ(namer.route("/users/alice/posts/1/x"), "/users/alice/posts/{id}/x");
}

TEST(RouteNamer, PatternsAreValidated) {
  EXPECT_EQ(pattern_error("users"), "route pattern 2 \"users\": must start with '/'");
  EXPECT_EQ(pattern_error(""), "route pattern 2 \"\": must start with '/'");
  EXPECT_EQ(pattern_error("/a//b"), "route pattern 2 \"/a//b\": empty segment (\"//\")");
  EXPECT_EQ(pattern_error("/a/*/b"), "route pattern 2 \"/a/*/b\": '*' must be the last segment");
  EXPECT_EQ(pattern_error("/a/b*"), "route pattern 2 \"/a/b*\": '*' must be a whole segment");
  EXPECT_EQ(pattern_error("/a/{id"), "route pattern 2 \"/a/{id\": '{name}' must be a whole segment");
  EXPECT_EQ(pattern_error("/a/x{id}"), "route pattern 2 \"/a/x{id}\": '{name}' must be a whole segment");
  EXPECT_EQ(pattern_error("/a/{}"), "route pattern 2 \"/a/{}\": '{name}' must be a whole segment");
  EXPECT_EQ(pattern_error("/a/{my-id}"),
            "route pattern 2 \"/a/{my-id}\": invalid parameter name \"my-id\" (letters, digits and '_')");
  EXPECT_EQ(pattern_error("/a?x=1"), "route pattern 2 \"/a?x=1\": '?' and '#' cannot appear in a path");
  EXPECT_EQ(pattern_error("/a b"), "route pattern 2 \"/a b\": whitespace or control character");
  EXPECT_FALSE(RouteNamer::create({"bad"}, nullptr).has_value());  // the error is optional
  // Valid: a trailing slash, "/" alone, a lone "*".
  namer_ok({"/a/", "/", "/*", "/{x}/{y}/*"});
}

TEST(RouteLimiter, CapsDistinctRoutesPerService) {
  RouteLimiter limiter(2);
  EXPECT_EQ(limiter.admit("api", "/a"), "/a");
  EXPECT_EQ(limiter.admit("api", "/b"), "/b");
  EXPECT_EQ(limiter.admit("api", "/a"), "/a");  // known: still admitted
  EXPECT_EQ(limiter.admit("api", "/c"), "/{other}");
  EXPECT_EQ(limiter.admit("api", "/d"), "/{other}");
  EXPECT_EQ(limiter.admit("web", "/c"), "/c");  // another service has its own budget
  EXPECT_EQ(limiter.overflowed(), 2u);
}

}  // namespace
}  // namespace waggle::protocols
