#include "config/yaml_check.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

namespace waggle::yaml_check {

bool read_file(const std::string& path, std::string* text, std::string* error) {
  constexpr size_t kMaxFileBytes = 64u << 20;
  auto cannot_read = [&](const std::string& why) {
    if (error) *error = path + ": cannot read: " + why;
    return false;
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(std::generic_category().message(errno));
  text->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text->size() + static_cast<size_t>(n) > kMaxFileBytes) {
      int saved = errno;
      close(fd);
      if (n < 0) return cannot_read(std::generic_category().message(saved));
      if (n == 0) return true;
      return cannot_read("larger than 64 MiB");
    }
    text->append(buf, static_cast<size_t>(n));
  }
}
namespace {

constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";
constexpr size_t kQuoteMax = 64;  // bytes of a value shown in a message

// yaml-cpp gives a plain scalar the tag "?", a quoted or block one "!".
bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

bool has_core_tag(const YAML::Node& node, std::string_view name) {
  const std::string& tag = node.Tag();
  return tag.size() == kCoreTag.size() + name.size() && tag.starts_with(kCoreTag) &&
         std::string_view(tag).substr(kCoreTag.size()) == name;
}

std::string short_tag(const std::string& tag) {
  if (tag.starts_with(kCoreTag)) return "!!" + tag.substr(kCoreTag.size());
  return tag;
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// A mark at byte `pos` of `text`, with the line and column counted from the text.
YAML::Mark mark_at(std::string_view text, size_t pos) {
  YAML::Mark mark;
  mark.pos = static_cast<int>(pos);
  mark.line = static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
  size_t line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  line_start = (line_start == std::string_view::npos || pos == 0) ? 0 : line_start + 1;
  mark.column = static_cast<int>(pos - line_start);
  return mark;
}

}  // namespace

std::string format_error(const std::string& name, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return name + ": " + message;
  return name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": " + message;
}

std::string without_bom(const std::string& yaml) {
  return yaml.starts_with("\xEF\xBB\xBF") ? yaml.substr(3) : yaml;
}

YAML::Node single_document(const std::string& text, std::string_view expected, std::string_view per_file) {
  std::vector<YAML::Node> documents = YAML::LoadAll(text);
  if (documents.empty() || (documents.size() == 1 && documents[0].IsNull()))
    throw SchemaError{YAML::Mark::null_mark(), "expected " + std::string(expected) + ", got an empty document"};
  for (size_t i = 1; i < documents.size(); i++)
    if (!documents[i].IsNull())
      throw SchemaError{documents[i].Mark(), "expected a single YAML document (" + std::string(per_file) +
                                                 "), got a second one (after ---)"};
  return documents[0];
}

std::string quote(std::string_view text) {
  size_t shown = std::min(text.size(), kQuoteMax);
  // Do not cut a UTF-8 sequence in two.
  while (shown < text.size() && shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xC0) == 0x80) {
    --shown;
  }
  std::string out = "\"";
  for (char c : text.substr(0, shown)) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  if (shown < text.size()) return out + "...\" (" + std::to_string(text.size()) + " bytes)";
  return out + "\"";
}

bool Reader::explicit_null(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) {
    return false;
  }
  std::string_view at = text_.substr(static_cast<size_t>(mark.pos));
  if (at.starts_with("!")) return true;  // a tagged null
  for (std::string_view word : {"~", "null", "Null", "NULL"}) {
    if (!at.starts_with(word)) continue;
    // The whole token, not the start of a longer one ("nullable: 1" on the next line).
    if (at.size() == word.size()) return true;
    return std::string_view(" \t\r\n,]}#").find(at[word.size()]) != std::string_view::npos;
  }
  return false;
}

// An empty sequence item ("- " alone) gets the mark of the token after it: point at its
// own "-" (or "," in a flow sequence) instead.
YAML::Mark Reader::item_mark(const YAML::Node& item, const YAML::Mark& fallback) const {
  if (!item.IsNull() || explicit_null(item)) return item.Mark();
  const YAML::Mark mark = item.Mark();
  if (mark.is_null() || mark.pos <= 0 || static_cast<size_t>(mark.pos) > text_.size()) {
    return fallback;
  }
  size_t pos = static_cast<size_t>(mark.pos);
  while (pos > 0 && std::string_view(" \t\r\n").find(text_[pos - 1]) != std::string_view::npos) {
    --pos;
  }
  if (pos == 0) return fallback;
  char before = text_[pos - 1];
  if (before == '-' || before == ',' || before == '[') return mark_at(text_, pos - 1);
  return fallback;
}

Value Reader::remember(Value value) {
  marks_[value.path] = value.mark;
  return value;
}

std::string Reader::describe(const YAML::Node& node, bool note_quoted) const {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return explicit_null(node) ? "null" : "an empty value";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string out = quote(node.Scalar());
  if (node.Tag() == "!") {
    if (note_quoted) out += " (a quoted string)";
  } else if (!is_plain(node)) {
    out += " (tagged " + short_tag(node.Tag()) + ")";
  }
  return out;
}

void Reader::fail(const Value& value, std::string_view expected, bool note_quoted) const {
  std::string message = value.path.empty() ? "" : value.path + ": ";
  message += "expected ";
  message += expected;
  message += ", got " + describe(value.node, note_quoted);
  throw SchemaError{value.mark, std::move(message)};
}

void Reader::fail_message(const Value& value, const std::string& message) {
  throw SchemaError{value.mark, value.path.empty() ? message : value.path + ": " + message};
}

Value Reader::root(const YAML::Node& node) {
  if (!node.IsNull() && !node.IsMap()) {
    throw SchemaError{node.Mark(),
                      "expected a mapping (key: value lines) at the top level, got " + describe(node)};
  }
  return remember(Value{node, "", node.Mark()});
}

std::vector<Entry> Reader::mapping(const Value& value, std::initializer_list<std::string_view> allowed) {
  if (value.node.IsNull()) return {};  // an empty section: all defaults
  if (!value.node.IsMap()) fail(value, "a mapping (key: value lines)");
  const std::string where = value.path.empty() ? "at the top level" : "in " + value.path;
  std::vector<Entry> entries;
  std::map<std::string, YAML::Mark> seen;
  for (auto it = value.node.begin(); it != value.node.end(); ++it) {
    const YAML::Node key = it->first;  // copies: the iterator hands out temporaries
    const YAML::Node child = it->second;
    if (!key.IsScalar()) {
      throw SchemaError{key.Mark(), "expected a key name " + where + ", got " + describe(key)};
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      throw SchemaError{key.Mark(), "unknown key " + quote(name) + " " + where +
                                        " (expected one of: " + join(allowed) + ")"};
    }
    auto [first, inserted] = seen.emplace(name, key.Mark());
    if (!inserted) {
      throw SchemaError{key.Mark(), "duplicate key " + quote(name) + " " + where + " (first given at line " +
                                        std::to_string(first->second.line + 1) + ", column " +
                                        std::to_string(first->second.column + 1) + ")"};
    }
    // An empty value has no position of its own: point at its key.
    YAML::Mark mark = child.IsNull() && !explicit_null(child) ? key.Mark() : child.Mark();
    std::string path = value.path.empty() ? name : value.path + "." + name;
    entries.push_back(Entry{name, remember(Value{child, std::move(path), mark})});
  }
  return entries;
}

std::vector<Value> Reader::sequence(const Value& value, std::string_view expected) {
  if (!value.node.IsSequence()) fail(value, expected);
  std::vector<Value> items;
  items.reserve(value.node.size());
  size_t index = 0;
  for (const YAML::Node& item : value.node) {
    std::string path = value.path + "[" + std::to_string(index++) + "]";
    items.push_back(remember(Value{item, std::move(path), item_mark(item, value.mark)}));
  }
  return items;
}

bool Reader::boolean(const Value& value) {
  const YAML::Node& node = value.node;
  if (node.IsScalar() && (is_plain(node) || has_core_tag(node, "bool"))) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  fail(value, "a boolean (true or false)", true);
}

int64_t Reader::integer(const Value& value, std::string_view expected) {
  const YAML::Node& node = value.node;
  if (!node.IsScalar() || !(is_plain(node) || has_core_tag(node, "int"))) {
    fail(value, expected, true);
  }
  std::string_view s = node.Scalar();
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // Decimal only, without leading zeros (YAML 1.1 reads 010 as octal: ambiguous).
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail(value, expected, true);
  }
  int64_t n = 0;
  for (char c : s) n = n * 10 + (c - '0');  // at most 18 digits: cannot overflow
  return negative ? -n : n;
}

std::string Reader::string(const Value& value, std::string_view expected) {
  const YAML::Node& node = value.node;
  if (!node.IsScalar() || !(is_plain(node) || node.Tag() == "!" || has_core_tag(node, "str"))) {
    fail(value, expected);
  }
  return node.Scalar();
}

}  // namespace waggle::yaml_check
