// Reading the `otlp:` section of the configuration. Internal to src/config.
#pragma once

#include "config/config.hpp"
#include "config/yaml_check.hpp"

namespace waggle {

void read_otlp(yaml_check::Reader& r, const yaml_check::Value& value, OtlpConfig& otlp);

}  // namespace waggle
