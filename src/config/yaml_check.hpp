// Strict reading of a YAML document against a schema: every value is checked for the kind
// the schema expects (no loose conversions), every key must be known and given once, and
// every error carries the position of the node at fault. Internal to src/config.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waggle::yaml_check {

// What went wrong, and where. Thrown by the readers below.
struct SchemaError {
  YAML::Mark mark;  // may be null (no position known)
  std::string message;
};

// Reads a YAML file of at most 64 MiB. On failure returns false with *error set to
// "PATH: cannot read: why".
bool read_file(const std::string& path, std::string* text, std::string* error);

// The text without a UTF-8 byte order mark: yaml-cpp counts positions after it, and the text
// a Reader looks at must line up with the marks.
std::string without_bom(const std::string& yaml);

// The only document of `text`. Throws SchemaError "expected EXPECTED, got an empty document"
// when there is none, and one naming `per_file` ("one policy per file") after a second one.
YAML::Node single_document(const std::string& text, std::string_view expected, std::string_view per_file);

// "name:LINE:COLUMN: message" (1-based), or "name: message" when the mark is null.
std::string format_error(const std::string& name, const YAML::Mark& mark, const std::string& message);

// `text` between double quotes, with control bytes escaped and long text shortened.
std::string quote(std::string_view text);

// A node together with the dotted path that names it ("sensors.file.prefix[1]") and the
// position errors about it point to.
struct Value {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;
};

struct Entry {
  std::string key;
  Value value;
};

class Reader {
 public:
  // `text` is the document the nodes come from: it tells an explicit null ("~", "null")
  // from an empty value, whose mark yaml-cpp places on the next token.
  explicit Reader(std::string_view text) : text_(text) {}

  // The document's root (path ""), which must be a mapping; a null root reads as empty.
  Value root(const YAML::Node& node);

  // The entries of a mapping, in document order, after checking that every key is a string
  // among `allowed` and appears once. A null value (an empty section) reads as no entries.
  std::vector<Entry> mapping(const Value& value, std::initializer_list<std::string_view> allowed);

  // The items of a sequence; null and anything but a sequence are errors.
  std::vector<Value> sequence(const Value& value, std::string_view expected);

  // A YAML boolean: true/false (also True/False, TRUE/FALSE), never "yes", "on", "1" or a
  // quoted string.
  bool boolean(const Value& value);

  // A decimal integer, unquoted; `expected` describes the valid values in the error.
  int64_t integer(const Value& value, std::string_view expected);

  // A scalar, quoted or not (not null, not a sequence or mapping).
  std::string string(const Value& value, std::string_view expected = "a string");

  // Throws "PATH: expected EXPECTED, got WHAT-THE-NODE-IS". With `note_quoted`, a quoted
  // scalar is said to be one (for values that must not be strings).
  [[noreturn]] void fail(const Value& value, std::string_view expected, bool note_quoted = false) const;

  // Throws "PATH: MESSAGE" at the value's position.
  [[noreturn]] static void fail_message(const Value& value, const std::string& message);

  // What a node is, for "got ...": null, an empty value, a sequence, a mapping, "text".
  std::string describe(const YAML::Node& node, bool note_quoted = false) const;

  // Where each value read so far was, by path: maps a limit error found after the whole
  // document was read back to its node.
  const std::map<std::string, YAML::Mark>& marks() const { return marks_; }

 private:
  bool explicit_null(const YAML::Node& node) const;
  YAML::Mark item_mark(const YAML::Node& item, const YAML::Mark& fallback) const;
  Value remember(Value value);

  std::string_view text_;
  std::map<std::string, YAML::Mark> marks_;
};

// Reads a file's one document with `read(Reader&, const YAML::Node& root)`, which returns a T
// with a `source` field (set to `name`). Errors become "name:LINE:COLUMN: message" in *error.
template <class T, class Read>
std::optional<T> read_document(const std::string& yaml, const std::string& name, std::string_view expected,
                               std::string_view per_file, std::string* error, Read read) {
  const std::string text = without_bom(yaml);
  try {
    YAML::Node root = single_document(text, expected, per_file);
    Reader reader(text);
    T value = read(reader, root);
    value.source = name;
    return value;
  } catch (const SchemaError& e) {
    if (error) *error = format_error(name, e.mark, e.message);
  } catch (const YAML::Exception& e) {
    if (error) *error = format_error(name, e.mark, "invalid YAML: " + e.msg);
  }
  return std::nullopt;
}

}  // namespace waggle::yaml_check
