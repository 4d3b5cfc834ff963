// OTLP's JSON encoding (OTLP/HTTP with application/json): the protobuf JSON mapping, except
// that trace and span ids are hex strings instead of base64, and enums are numbers.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace waggle::otlp {

// False (with *error set) if the message could not be converted.
bool to_otlp_json(const google::protobuf::Message& message, std::string* out, std::string* error);

// The reverse, for receivers (the tests'): hex ids are turned back into bytes.
bool from_otlp_json(const std::string& json, google::protobuf::Message* message, std::string* error);

}  // namespace waggle::otlp
