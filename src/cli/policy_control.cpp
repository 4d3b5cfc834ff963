#include "cli/policy_control.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "policy/policy_sensor.hpp"

namespace waggle {
namespace {

std::string reply(bool ok, const std::string& text) { return (ok ? "ok\n" : "error\n") + text + "\n"; }

const char* mode_name(PolicyMode m) { return m == PolicyMode::kMonitor ? "monitor" : "enforce"; }

}  // namespace

std::string PolicyControl::handle(const std::string& request) {
  size_t eol = request.find('\n');
  std::string line = request.substr(0, eol);
  std::string body = eol == std::string::npos ? "" : request.substr(eol + 1);
  if (line == "ping") return reply(true, "pong");
  if (line == "list") return list();
  if (line.rfind("apply ", 0) == 0) return apply(line.substr(6), body);
  if (line.rfind("delete ", 0) == 0) return remove(line.substr(7));
  return reply(false, fmt::format("unknown request \"{}\"", line));
}

bool PolicyControl::put_in_force(std::vector<Policy> next, std::string* error) {
  if (!enforcer_) {
    *error = "policies cannot be enforced here: " + why_;
    return false;
  }
  if (std::string problem = check_policy_set(next); !problem.empty()) {
    *error = problem;
    return false;
  }
  auto drain = [this] {
    while (ring_.poll(0) > 0) {
    }
  };
  if (!replace_policies(*enforcer_, next, drain, error)) return false;
  // Records of the replaced set still in the ring are decoded with its rules, then it goes.
  drain();
  release_replaced_policies(*enforcer_);
  in_force_ = std::move(next);
  return true;
}

std::string PolicyControl::apply(const std::string& source, const std::string& yaml) {
  std::string error;
  auto policy = parse_policy(yaml, source, &error);
  if (!policy) return reply(false, error);
  std::vector<Policy> next;
  bool replaced = false;
  for (const Policy& p : in_force_) {
    if (p.name == policy->name) {
      replaced = true;
      continue;
    }
    next.push_back(p);
  }
  std::string name = policy->name;
  size_t rules = policy->rules.size();
  // Kept in the policy directory, so that a restarted agent enforces it again.
  std::string kept;
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    kept = dir_ + "/" + name + ".yaml";
    policy->source = kept;
  }
  next.push_back(std::move(*policy));
  if (!put_in_force(std::move(next), &error)) return reply(false, error);
  if (!kept.empty()) {
    std::string tmp = kept + ".tmp";
    std::ofstream(tmp, std::ios::binary) << yaml;
    chmod(tmp.c_str(), 0600);
    if (rename(tmp.c_str(), kept.c_str()) != 0)
      return reply(true, fmt::format("{} {} ({} rules), but it could not be saved to {}: {}",
                                     replaced ? "replaced" : "applied", name, rules, kept, strerror(errno)));
  }
  return reply(
      true, fmt::format("{} {} ({} rule{}); {} polic{} in force", replaced ? "replaced" : "applied", name,
                        rules, rules == 1 ? "" : "s", in_force_.size(), in_force_.size() == 1 ? "y" : "ies"));
}

std::string PolicyControl::remove(const std::string& name) {
  std::vector<Policy> next;
  std::string source;
  for (const Policy& p : in_force_) {
    if (p.name == name)
      source = p.source;
    else
      next.push_back(p);
  }
  if (source.empty()) return reply(false, fmt::format("no policy named \"{}\" is in force", name));
  std::string error;
  if (!put_in_force(std::move(next), &error)) return reply(false, error);
  std::string kept = dir_.empty() ? "" : dir_ + "/" + name + ".yaml";
  if (!kept.empty() && source == kept) unlink(kept.c_str());
  return reply(true, fmt::format("deleted {}; {} polic{} in force", name, in_force_.size(),
                                 in_force_.size() == 1 ? "y" : "ies"));
}

std::string PolicyControl::list() const {
  std::string text;
  std::map<std::string, uint64_t> hits;
  if (enforcer_)
    for (auto& [rule, count] : policy_rule_hits(*enforcer_)) hits[rule] = count;
  for (const Policy& p : in_force_) {
    text += fmt::format("{}\t{}\t{} rule{}\t{}\n", p.name, mode_name(p.mode), p.rules.size(),
                        p.rules.size() == 1 ? "" : "s", p.source);
    for (const Rule& r : p.rules)
      text += fmt::format("  {}\tmatched {}\n", r.name, hits[p.name + "/" + r.name]);
  }
  if (!text.empty()) text.pop_back();
  return reply(true, text.empty() ? "no policy in force" : text);
}

}  // namespace waggle
