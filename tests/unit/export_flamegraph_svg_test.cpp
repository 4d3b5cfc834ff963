// The SVG flame graph: well-formed XML, one <g class="frame"> per drawn frame, widths, escaping.
#include <gtest/gtest.h>

#include "sample_profile.hpp"
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "export/flamegraph_svg.hpp"

namespace waggle {
namespace {

// Two processes named "app" (pids 10 and 11) share a stack; "node" runs JIT code. 10 samples.
Profile sample_profile() { return test::sample_profile(); }

struct Frame {
  std::string name, module, kind, samples, depth, x, width;
};

std::string attr(const std::string& tag, const std::string& name) {
  std::smatch m;
  if (std::regex_search(tag, m, std::regex(" " + name + "=\"([^\"]*)\""))) return m[1];
  return "<none>";
}

// The frames in document order (depth first, children by name).
std::vector<Frame> frames_of(const std::string& svg) {
  std::vector<Frame> out;
  static const std::regex frame(R"re(<g (class="frame"[^>]*)>(?:<title>[^<]*</title>)?<rect ([^>]*)/>)re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), frame); it != std::sregex_iterator(); ++it) {
    std::string g = " " + (*it)[1].str(), rect = " " + (*it)[2].str();
    out.push_back({attr(g, "data-name"), attr(g, "data-module"), attr(g, "data-kind"),
                   attr(g, "data-samples"), attr(g, "data-depth"), attr(rect, "x"), attr(rect, "width")});
  }
  return out;
}

// Runs xmllint on the document: true when it is well-formed (or xmllint is not installed).
bool well_formed(const std::string& svg) {
  if (access("/usr/bin/xmllint", X_OK) != 0) {
    std::printf("xmllint not installed: well-formedness not checked\n");
    return true;
  }
  char dir_template[] = "/tmp/waggle-svg-test-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) return false;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  const std::string path = cleanup.dir + "/graph.svg";
  std::ofstream(path) << svg;
  return std::system(("/usr/bin/xmllint --noout " + path).c_str()) == 0;
}

TEST(FlameGraphSvg, OneFramePerMergedStackFrameWithWidthsProportionalToSamples) {
  const std::string svg = render_flamegraph_svg(sample_profile(), {});
  EXPECT_TRUE(well_formed(svg));
  EXPECT_NE(svg.find("data-total=\"10\""), std::string::npos);
  // 1200 pixels less 10 each side: 118 a sample, from x = 10. Processes merge by comm.
  const std::vector<Frame> frames = frames_of(svg);
  ASSERT_EQ(frames.size(), 8u);
  const std::vector<std::vector<std::string>> expected = {
      {"app", "", "process", "6", "0", "10.00", "708.00"},
      {"main", "/bin/app", "user", "6", "1", "10.00", "708.00"},
      {"do_syscall_64", "[kernel.kallsyms]", "kernel", "1", "2", "10.00", "118.00"},
      {"work", "/bin/app", "user", "5", "2", "128.00", "590.00"},
      {"node", "", "process", "4", "0", "718.00", "472.00"},
      {"main", "/bin/app", "user", "4", "1", "718.00", "472.00"},
      {"LazyCompile:foo", "[jit]", "jit", "4", "2", "718.00", "472.00"},
      {"app+0x1234", "/bin/app", "unknown", "4", "3", "718.00", "472.00"},
  };
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    EXPECT_EQ((std::vector<std::string>{f.name, f.module, f.kind, f.samples, f.depth, f.x, f.width}),
              expected[i])
        << "frame " << i;
  }
  // Root at the bottom: the deepest frame (depth 3) is on the top row, y = 56.
  EXPECT_NE(svg.find("<rect x=\"718.00\" y=\"56.0\" width=\"472.00\""), std::string::npos);
  EXPECT_NE(svg.find("<rect x=\"10.00\" y=\"104.0\" width=\"708.00\""), std::string::npos);
  // The legend names the kernel's colour.
  EXPECT_NE(svg.find(">kernel</text>"), std::string::npos);
}

TEST(FlameGraphSvg, PerPidGivesEachProcessItsRootAndWidthIsAnOption) {
  FlameGraphOptions options;
  options.per_pid = true;
  options.width = 520;  // 500 pixels: 50 a sample
  const std::vector<Frame> frames = frames_of(render_flamegraph_svg(sample_profile(), options));
  ASSERT_EQ(frames.size(), 11u);
  EXPECT_EQ(frames[0].name, "app-10");
  EXPECT_EQ(frames[0].width, "200.00");
  EXPECT_EQ(frames[4].name, "app-11");
  EXPECT_EQ(frames[4].x, "210.00");
  EXPECT_EQ(frames[4].width, "100.00");
  EXPECT_EQ(frames[7].name, "node-12");
}

TEST(FlameGraphSvg, FramesNarrowerThanAThousandthAreLeftOut) {
  Profile p;
  uint32_t main_f = p.intern({"main", "/bin/app", FrameKind::kUser});
  uint32_t tiny = p.intern({"tiny", "/bin/app", FrameKind::kUser});
  uint32_t s1[] = {main_f};
  uint32_t s2[] = {main_f, tiny};
  p.add("app", 1, s1, 999);
  p.add("app", 1, s2, 1);  // exactly 0.1%: drawn
  std::vector<Frame> frames = frames_of(render_flamegraph_svg(p, {}));
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].name, "tiny");
  EXPECT_EQ(frames[2].width, "1.18");

  p.add("app", 1, s1, 1);  // now 1 in 1001: left out, but counted in main
  frames = frames_of(render_flamegraph_svg(p, {}));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].name, "main");
  EXPECT_EQ(frames[1].samples, "1001");
  EXPECT_EQ(frames[1].width, "1180.00");
}

TEST(FlameGraphSvg, NamesAreEscaped) {
  Profile p;
  uint32_t f = p.intern({"operator<<(a&b, \"c\", 'd')", "/lib/<odd>&\"x\".so", FrameKind::kUser});
  uint32_t bad = p.intern({"bad\xff\x01utf8", "/bin/x", FrameKind::kUser});
  uint32_t stack[] = {f, bad};
  p.add("we<ird>&\"", 3, stack, 1);
  FlameGraphOptions options;
  options.title = "<title> & \"more\"";
  const std::string svg = render_flamegraph_svg(p, options);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_NE(svg.find("data-name=\"operator&lt;&lt;(a&amp;b, &quot;c&quot;, &apos;d&apos;)\""),
            std::string::npos);
  EXPECT_NE(svg.find("data-module=\"/lib/&lt;odd&gt;&amp;&quot;x&quot;.so\""), std::string::npos);
  EXPECT_NE(svg.find("data-name=\"we&lt;ird&gt;&amp;&quot;\""), std::string::npos);
  EXPECT_NE(svg.find("data-name=\"bad\xEF\xBF\xBD utf8\""), std::string::npos);
  EXPECT_NE(svg.find(">&lt;title&gt; &amp; &quot;more&quot;</text>"), std::string::npos);
  EXPECT_EQ(svg.find("operator<<"), std::string::npos);
  EXPECT_EQ(svg.find("we<ird"), std::string::npos);
  const std::vector<Frame> frames = frames_of(svg);
  ASSERT_EQ(frames.size(), 3u);
}

TEST(FlameGraphSvg, EmptyProfileIsAnEmptyGraph) {
  const std::string svg = render_flamegraph_svg(Profile{}, {});
  EXPECT_TRUE(well_formed(svg));
  EXPECT_TRUE(frames_of(svg).empty());
}

}  // namespace
}  // namespace waggle
