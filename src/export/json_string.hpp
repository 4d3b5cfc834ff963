// JSON string encoding (RFC 8259) of raw bytes, and base64 for bytes JSON cannot carry.
#pragma once

#include <string>
#include <string_view>

#include "export/line_writer.hpp"

namespace waggle {

// Appends `raw` as a quoted JSON string: '"' and '\\' escaped, control characters below 0x20 as
// \n \t \r \b \f or \u00XX, everything else as is. Bytes that are not part of valid UTF-8
// (stray continuation bytes, overlong forms, surrogates, code points above U+10FFFF, truncated
// sequences) each become U+FFFD. Returns true when that happened: `raw` was not valid UTF-8, and
// callers that need the exact bytes must carry them another way (append_base64).
bool append_json_string(std::string& out, std::string_view raw);
bool append_json_string(LineWriter& w, std::string_view raw);  // the same through a writer

// True when `raw` is valid UTF-8 (the same rules as above).
bool is_valid_utf8(std::string_view raw);

// `raw` when it is valid UTF-8; otherwise a copy in *scratch with each byte that is not part of
// a valid sequence replaced by U+FFFD (for protobuf strings, which must be UTF-8).
std::string_view valid_utf8(std::string_view raw, std::string* scratch);

// Length of the valid UTF-8 sequence starting at p[0] (1 to 4), or 0 when p[0] does not start
// one. `n` (at least 1) is how many bytes are readable from p.
size_t utf8_sequence_length(const unsigned char* p, size_t n);

// Appends `raw` in base64, standard alphabet, with '=' padding, no quotes or line breaks.
void append_base64(std::string& out, std::string_view raw);
void append_base64(LineWriter& w, std::string_view raw);

}  // namespace waggle
