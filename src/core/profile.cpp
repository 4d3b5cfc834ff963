#include "core/profile.hpp"

namespace waggle {

uint32_t Profile::intern(const ProfileFrame& frame) {
  auto [it, added] = frame_index_.try_emplace(frame.key(), uint32_t(frames_.size()));
  if (added) frames_.push_back(frame);
  return it->second;
}

void Profile::add(const std::string& process, uint32_t pid, std::span<const uint32_t> frames, uint64_t samples) {
  counts_[{process, pid, std::vector<uint32_t>(frames.begin(), frames.end())}] += samples;
  total_ += samples;
}

std::vector<ProfileStack> Profile::stacks() const {
  std::vector<ProfileStack> out;
  out.reserve(counts_.size());
  for (const auto& [key, samples] : counts_)
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), samples});
  return out;
}

}  // namespace waggle
