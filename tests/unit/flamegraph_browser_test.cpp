// The SVG flame graph in a real browser (headless Chromium): it renders; its script's search,
// run from the URL ("#search=REGEX" or "?s=REGEX"), highlights exactly the matching frames; a
// hover shows a frame's details and a click zooms into it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "export/flamegraph_svg.hpp"
#include "headless_chromium.hpp"

namespace waggle {
namespace {

namespace fs = std::filesystem;

// app: main (6) -> work (5), do_syscall_64 (1); node: main (4) -> LazyCompile:foo -> app+0x1234.
Profile sample_profile() {
  Profile p;
  uint32_t main_f = p.intern({"main", "/bin/app", FrameKind::kUser});
  uint32_t work = p.intern({"work", "/bin/app", FrameKind::kUser});
  uint32_t sys = p.intern({"do_syscall_64", "[kernel.kallsyms]", FrameKind::kKernel});
  uint32_t jit = p.intern({"LazyCompile:foo", "[jit]", FrameKind::kJit});
  uint32_t unknown = p.intern({"app+0x1234", "/bin/app", FrameKind::kUnknown});
  uint32_t s1[] = {main_f, work};
  uint32_t s2[] = {main_f, sys};
  uint32_t s3[] = {main_f, jit, unknown};
  p.add("app", 10, s1, 5);
  p.add("app", 10, s2, 1);
  p.add("node", 12, s3, 4);
  return p;
}

// A temporary directory (the SVGs, Chromium's profile and logs), removed even when a test fails.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/waggle-flamegraph-XXXXXX";
    if (mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

using test::artifact_dir;
using test::kChromium;

// Chromium on `url`, its profile under the test's directory.
std::string chromium(const TempDir& dir, const std::string& profile, const std::string& args,
                     const std::string& url) {
  return test::chromium(dir.path(), profile, args, url);
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c))
      out += char(c);
    else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

struct Searched {
  std::multiset<std::string> matches;  // data-name of the frames with class "match"
  int frames = 0;
  std::string matched;  // the text of #matched
};

// The DOM of `url` once its scripts have run.
std::string dom_of(const TempDir& dir, const std::string& url) {
  return chromium(dir, "dom", "--dump-dom", url);
}

Searched searched(const std::string& dom) {
  Searched out;
  static const std::regex frame(R"re(<g ([^>]*\bclass="frame[^"]*"[^>]*)>)re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), frame); it != std::sregex_iterator(); ++it) {
    const std::string g = (*it)[1];
    ++out.frames;
    std::smatch cls, name;
    std::regex_search(g, cls, std::regex(R"re(class="([^"]*)")re"));
    if (!std::regex_search(cls[1].str(), std::regex(R"(\bmatch\b)"))) continue;
    std::regex_search(g, name, std::regex(R"re(data-name="([^"]*)")re"));
    out.matches.insert(name[1]);
  }
  std::smatch m;
  if (std::regex_search(dom, m, std::regex(R"re(<text id="matched"[^>]*>([^<]*)</text>)re")))
    out.matched = m[1];
  return out;
}

Searched search_in_browser(const TempDir& dir, const std::string& svg_url, const std::string& regex) {
  return searched(dom_of(dir, svg_url + "#search=" + percent_encode(regex)));
}

uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 |
         uint32_t(uint8_t(s[at + 2])) << 8 | uint8_t(s[at + 3]);
}

class FlameGraphBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " is not installed";
    ASSERT_FALSE(dir_.path().empty());
    svg_ = dir_.path() / "graph.svg";
    std::ofstream(svg_) << render_flamegraph_svg(sample_profile(), {});
    url_ = "file://" + svg_.string();
  }
  TempDir dir_;
  fs::path svg_;
  std::string url_;
};

TEST_F(FlameGraphBrowser, RendersAScreenshot) {
  const fs::path shot = artifact_dir() / "flamegraph.png";
  fs::create_directories(shot.parent_path());
  fs::remove(shot);  // not last run's
  chromium(dir_, "shot", "--screenshot=" + shot.string() + " --window-size=1200,600", url_);
  std::printf("flame graph screenshot: %s\n", shot.c_str());
  ASSERT_TRUE(fs::exists(shot));
  std::ifstream in(shot, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 10000u) << "a screenshot this small is blank";
  ASSERT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(be32(png, 16), 1200u);  // IHDR width, height
  EXPECT_EQ(be32(png, 20), 600u);
}

TEST_F(FlameGraphBrowser, SearchFromTheUrlHashHighlightsMatchingFrames) {
  Searched s = search_in_browser(dir_, url_, "^(work|Lazy.*foo)$");
  EXPECT_EQ(s.frames, 8);  // all drawn frames made it into the DOM
  EXPECT_EQ(s.matches, (std::multiset<std::string>{"work", "LazyCompile:foo"}));
  EXPECT_EQ(s.matched, "Matched: 90.00%");
}

TEST_F(FlameGraphBrowser, NestedMatchesCountTheirSamplesOnce) {
  // Both "main"s, and "app" (the process) with "app+0x1234" above node's main: every sample.
  Searched s = search_in_browser(dir_, url_, "main|app");
  EXPECT_EQ(s.matches, (std::multiset<std::string>{"app", "main", "main", "app+0x1234"}));
  EXPECT_EQ(s.matched, "Matched: 100.00%");
  s = search_in_browser(dir_, url_, "syscall");
  EXPECT_EQ(s.matches, (std::multiset<std::string>{"do_syscall_64"}));
  EXPECT_EQ(s.matched, "Matched: 10.00%");
}

TEST_F(FlameGraphBrowser, SearchFromTheUrlQuery) {
  Searched s = searched(dom_of(dir_, url_ + "?s=" + percent_encode("^do_sys|^Lazy")));
  EXPECT_EQ(s.matches, (std::multiset<std::string>{"do_syscall_64", "LazyCompile:foo"}));
  EXPECT_EQ(s.matched, "Matched: 50.00%");
}

TEST_F(FlameGraphBrowser, HoverShowsDetailsAndClickZoomsIntoTheFrame) {
  // The page itself hovers over and clicks "work", as a user would, before the DOM is dumped.
  std::string svg = render_flamegraph_svg(sample_profile(), {});
  const std::string user = R"(<script><![CDATA[
    var work = [].find.call(document.querySelectorAll('g.frame'),
                            function (g) { return g.getAttribute('data-name') === 'work'; });
    work.querySelector('rect').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
    work.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  ]]></script>)";
  svg.insert(svg.rfind("</svg>"), user);
  const fs::path clicked = dir_.path() / "clicked.svg";
  std::ofstream(clicked) << svg;
  const std::string dom = dom_of(dir_, "file://" + clicked.string());

  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex(R"re(<text id="details"[^>]*>([^<]*)</text>)re")));
  EXPECT_EQ(m[1], "Function: work (/bin/app) | 5 samples, 50.00%");
  EXPECT_TRUE(std::regex_search(dom, std::regex(R"re(<text id="unzoom" class="control")re")));  // shown
  // Its callers span the width, faded; "work" fills it; frames beside it are hidden.
  std::map<std::string, std::string> shown;  // name -> "class width"
  static const std::regex frame(
      R"re(<g class="([^"]*)" data-name="([^"]*)"[^>]*>.*?<rect x="[^"]*" y="[^"]*" width="([^"]*)")re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), frame); it != std::sregex_iterator(); ++it)
    shown[(*it)[2].str() + "@" + (*it)[1].str()] = (*it)[3];
  EXPECT_EQ(shown, (std::map<std::string, std::string>{{"app@frame parent", "1180.00"},
                                                       {"main@frame parent", "1180.00"},
                                                       {"work@frame", "1180.00"},
                                                       {"do_syscall_64@frame hidden", "118.00"},
                                                       {"node@frame hidden", "472.00"},
                                                       {"main@frame hidden", "472.00"},
                                                       {"LazyCompile:foo@frame hidden", "472.00"},
                                                       {"app+0x1234@frame hidden", "472.00"}}));
}

}  // namespace
}  // namespace waggle
