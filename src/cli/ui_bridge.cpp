#include "cli/ui_bridge.hpp"

namespace waggle {

std::optional<std::string> UiBridge::ask(std::string request, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Pending>();
  pending->request = std::move(request);
  std::unique_lock lock(mu_);
  if (closed_) return std::nullopt;
  waiting_.push_back(pending);
  answered_.wait_for(lock, timeout, [&] { return pending->answer.has_value() || closed_; });
  // Unanswered: the loop must not answer it later for nobody.
  if (!pending->answer) std::erase(waiting_, pending);
  return pending->answer;
}

void UiBridge::serve(const std::function<std::string(const std::string&)>& answer) {
  std::deque<std::shared_ptr<Pending>> taken;
  {
    std::lock_guard lock(mu_);
    if (waiting_.empty()) return;
    taken.swap(waiting_);
  }
  for (auto& p : taken) {
    std::string reply = answer(p->request);
    std::lock_guard lock(mu_);
    p->answer = std::move(reply);
  }
  answered_.notify_all();
}

void UiBridge::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  waiting_.clear();
  answered_.notify_all();
}

}  // namespace waggle
