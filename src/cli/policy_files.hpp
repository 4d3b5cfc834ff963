// Reading the policies `waggle run` is asked to enforce.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace waggle {

// The *.yaml and *.yml files of a directory, sorted by name.
std::vector<std::string> policy_files_in(const std::string& dir);

// Loads, validates and compiles (as a dry run) every file: all or nothing. On error sets
// *error ("FILE:LINE:COLUMN: ..." or what the kernel side refuses) and returns false.
bool load_policies(const std::vector<std::string>& files, std::vector<Policy>* out, std::string* error);

}  // namespace waggle
