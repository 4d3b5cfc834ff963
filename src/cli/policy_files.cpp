#include "cli/policy_files.hpp"

#include <algorithm>
#include <filesystem>

#include "core/host.hpp"
#include "policy/compiler.hpp"

namespace waggle {

std::vector<std::string> policy_files_in(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool load_policies(const std::vector<std::string>& files, std::vector<Policy>* out, std::string* error) {
  std::vector<Policy> policies;
  for (const std::string& file : files) {
    auto policy = load_policy(file, error);
    if (!policy) return false;
    policies.push_back(std::move(*policy));
  }
  if (std::string problem = check_policy_set(policies); !problem.empty()) {
    *error = problem;
    return false;
  }
  if (!policies.empty() && !compile_policies(policies, cgroup2_mount(), error)) return false;
  *out = std::move(policies);
  return true;
}

}  // namespace waggle
