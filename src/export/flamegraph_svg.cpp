#include "export/flamegraph_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string_view>

#include "export/json_string.hpp"

namespace waggle {

extern const char* const kFlameGraphScript;  // flamegraph_svg_script.cpp

namespace {

constexpr double kPad = 10;  // left and right margins
constexpr double kFrameHeight = 16;
constexpr double kTop = 56;     // title, controls and legend above the frames
constexpr double kBottom = 30;  // status line below
constexpr double kFontSize = 12;
constexpr double kCharWidth = kFontSize * 0.59;  // the script fits labels the same way

struct Node {
  std::string name, module;
  const char* kind = "process";
  uint64_t samples = 0;
  std::map<uint32_t, std::unique_ptr<Node>> children;  // by frame index
};

// Valid XML 1.0 text: markup characters escaped, control characters as spaces, invalid UTF-8
// (and the non-characters U+FFFE, U+FFFF) as U+FFFD.
std::string xml_escape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  for (size_t i = 0, n = raw.size(); i < n;) {
    const unsigned char c = p[i];
    size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 3 && c == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE) len = 0;
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20)
          out += ' ';
        else
          out.append(raw.substr(i, len));
    }
    i += len;
  }
  return out;
}

// The label that fits `width` pixels: the name, or its start and "..", or nothing. Counts code
// points, as the script counts characters.
std::string fit_label(const std::string& name, double width) {
  const long fits = long((width - 6) / kCharWidth);
  if (fits < 3) return {};
  std::vector<size_t> starts;  // byte offset of each code point
  for (size_t i = 0; i < name.size(); ++i)
    if ((static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (long(starts.size()) <= fits) return name;
  return name.substr(0, starts[size_t(fits - 2)]) + "..";
}

uint32_t hash(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

// flamegraph.pl's idea: a colour from the name's hash, so a function keeps its colour.
std::string colour(const Node& n) {
  const uint32_t h = hash(n.name);
  const double a = (h & 0xFF) / 255.0, b = ((h >> 8) & 0xFF) / 255.0, c = ((h >> 16) & 0xFF) / 255.0;
  int r, g, bl;
  std::string_view kind = n.kind;
  if (kind == "kernel") {  // orange
    r = 235 + int(20 * a), g = 125 + int(35 * b), bl = int(30 * c);
  } else if (kind == "jit") {  // green
    r = 50 + int(60 * a), g = 175 + int(55 * b), bl = 50 + int(40 * c);
  } else if (kind == "unknown") {  // grey
    r = g = bl = 165 + int(40 * a);
  } else if (kind == "process") {  // pale blue
    r = 170 + int(20 * a), g = 190 + int(20 * a), bl = 225 + int(20 * a);
  } else {  // user: warm, red or yellow (not the kernel's orange)
    r = 205 + int(50 * a), g = (h >> 24) & 1 ? 180 + int(45 * b) : 20 + int(55 * b), bl = int(55 * c);
  }
  return fmt::format("rgb({},{},{})", r, g, bl);
}

const char* kind_name(FrameKind k) {
  switch (k) {
    case FrameKind::kKernel:
      return "kernel";
    case FrameKind::kJit:
      return "jit";
    case FrameKind::kUnknown:
      return "unknown";
    case FrameKind::kUser:
      break;
  }
  return "user";
}

struct Layout {
  uint64_t total;
  double plot_width;
  int max_depth;
  std::string out;

  double x(uint64_t offset) const { return kPad + double(offset) * plot_width / double(total); }
  bool drawn(const Node& n) const { return n.samples * 1000 >= total && n.samples > 0; }

  static std::vector<const Node*> sorted(const Node& n) {
    std::vector<const Node*> kids;
    for (const auto& [_, child] : n.children) kids.push_back(child.get());
    std::sort(kids.begin(), kids.end(), [](const Node* a, const Node* b) {
      return std::tie(a->name, a->module) < std::tie(b->name, b->module);
    });
    return kids;
  }

  int depth_of(const Node& n, int depth) const {
    int deepest = depth;
    for (const auto& [_, child] : n.children)
      if (drawn(*child)) deepest = std::max(deepest, depth_of(*child, depth + 1));
    return deepest;
  }

  void draw(const Node& n, int depth, uint64_t offset) {
    const double x0 = x(offset), w = x(offset + n.samples) - x0;
    const double y = kTop + (max_depth - depth) * kFrameHeight;
    const std::string name = xml_escape(n.name), module = xml_escape(n.module);
    const double pct = 100.0 * double(n.samples) / double(total);
    fmt::format_to(std::back_inserter(out),
                   "<g class=\"frame\" data-name=\"{}\" data-module=\"{}\" data-kind=\"{}\" "
                   "data-samples=\"{}\" data-depth=\"{}\" data-offset=\"{}\">"
                   "<title>{}{}{}: {} samples, {:.2f}%</title>"
                   "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\"/>"
                   "<text x=\"{:.2f}\" y=\"{:.1f}\">{}</text></g>\n",
                   name, module, n.kind, n.samples, depth, offset, name, module.empty() ? "" : " (",
                   module.empty() ? "" : module + ")", n.samples, pct, x0, y, w, kFrameHeight - 1, colour(n),
                   x0 + 3, y + 11.5, xml_escape(fit_label(n.name, w)));
    for (const Node* child : sorted(n)) {
      if (drawn(*child)) draw(*child, depth + 1, offset);
      offset += child->samples;
    }
  }
};

void legend_entry(std::string& out, double& x, const char* fill, const char* label) {
  fmt::format_to(std::back_inserter(out),
                 "<rect x=\"{:.0f}\" y=\"36\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                 "<text x=\"{:.0f}\" y=\"45\">{}</text>",
                 x, fill, x + 14, label);
  x += 14 + std::string_view(label).size() * kCharWidth + 16;
}

}  // namespace

std::string render_flamegraph_svg(const Profile& profile, const FlameGraphOptions& options) {
  const auto& frames = profile.frames();
  Node root;
  std::map<std::string, std::unique_ptr<Node>> processes;
  for (const ProfileStack& s : profile.stacks()) {
    std::string name = s.process.empty() ? "[unknown]" : s.process;
    if (options.per_pid) name += "-" + std::to_string(s.pid);
    auto& process = processes[name];
    if (!process) {
      process = std::make_unique<Node>();
      process->name = name;
    }
    Node* node = process.get();
    node->samples += s.samples;
    for (uint32_t index : s.frames) {
      auto& child = node->children[index];
      if (!child) {
        child = std::make_unique<Node>();
        const ProfileFrame& f = frames.at(index);
        child->name = f.function.empty() ? "[unknown]" : f.function;
        child->module = f.module;
        child->kind = kind_name(f.kind);
      }
      node = child.get();
      node->samples += s.samples;
    }
  }
  uint32_t key = 0;
  for (auto& [_, process] : processes) {  // sorted by name: the map's order
    root.samples += process->samples;
    root.children[key++] = std::move(process);
  }

  const double width = std::max(options.width, 200);
  Layout layout{root.samples, width - 2 * kPad, 0, {}};
  if (layout.total > 0) {
    for (const auto& [_, process] : root.children)
      if (layout.drawn(*process)) layout.max_depth = std::max(layout.max_depth, layout.depth_of(*process, 0));
    uint64_t offset = 0;
    for (const auto& [_, process] : root.children) {
      if (layout.drawn(*process)) layout.draw(*process, 0, offset);
      offset += process->samples;
    }
  }
  const double height = kTop + (layout.max_depth + 1) * kFrameHeight + kBottom;

  std::string out;
  out.reserve(layout.out.size() + 8192);
  fmt::format_to(
      std::back_inserter(out),
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
      "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" id=\"waggle-flamegraph\" "
      "width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" data-total=\"{2}\" "
      "data-plot-x=\"{3:.0f}\" data-plot-width=\"{4:.0f}\" data-char-width=\"{5}\" font-family=\"Verdana, "
      "DejaVu Sans, sans-serif\" font-size=\"{6:.0f}\">\n"
      "<defs><linearGradient id=\"background\" x1=\"0\" x2=\"0\" y1=\"0\" y2=\"1\">"
      "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
      "</linearGradient></defs>\n"
      "<style type=\"text/css\"><![CDATA[\n"
      ".frame text {{ pointer-events: none; }}\n"
      ".frame:hover rect {{ stroke: black; stroke-width: 0.5; cursor: pointer; }}\n"
      ".frame.parent rect {{ opacity: 0.5; }}\n"
      ".hidden {{ display: none; }}\n"
      ".control {{ cursor: pointer; font-size: 13px; }}\n"
      ".control:hover {{ text-decoration: underline; }}\n"
      "]]></style>\n"
      "<rect x=\"0\" y=\"0\" width=\"{0:.0f}\" height=\"{1:.0f}\" fill=\"url(#background)\"/>\n"
      "<text id=\"title\" x=\"{7:.0f}\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">{8}</text>\n"
      "<text id=\"unzoom\" class=\"control hidden\" x=\"{3:.0f}\" y=\"24\">Reset zoom</text>\n"
      "<text id=\"search\" class=\"control\" x=\"{9:.0f}\" y=\"24\" text-anchor=\"end\">Search</text>\n"
      "<text id=\"reset-search\" class=\"control hidden\" x=\"{10:.0f}\" y=\"24\" "
      "text-anchor=\"end\">Reset search</text>\n",
      width, height, layout.total, kPad, layout.plot_width, kCharWidth, kFontSize, width / 2,
      xml_escape(options.title), width - kPad, width - kPad - 70);
  out += "<g id=\"legend\" font-size=\"11\">";
  double x = kPad;
  legend_entry(out, x, "rgb(225,70,40)", "user");
  legend_entry(out, x, "rgb(245,142,15)", "kernel");
  legend_entry(out, x, "rgb(80,200,70)", "JIT");
  legend_entry(out, x, "rgb(185,185,185)", "unknown");
  legend_entry(out, x, "rgb(180,200,235)", "process");
  legend_entry(out, x, "rgb(230,0,230)", "search match");
  out += "</g>\n<g id=\"frames\">\n";
  out += layout.out;
  fmt::format_to(std::back_inserter(out),
                 "</g>\n<text id=\"details\" x=\"{:.0f}\" y=\"{:.0f}\"> </text>\n"
                 "<text id=\"matched\" x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"end\"> </text>\n"
                 "<script type=\"text/ecmascript\"><![CDATA[\n",
                 kPad, height - 10, width - kPad, height - 10);
  out += kFlameGraphScript;
  out += "]]></script>\n</svg>\n";
  return out;
}

}  // namespace waggle
