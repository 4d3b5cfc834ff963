// Requests from the metrics endpoint's threads (the web UI's) answered on the agent's event
// loop, which owns what they read (the event history, the policies in force): nothing on the
// per-event path takes a lock for the UI.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace waggle {

class UiBridge {
 public:
  // From any thread: waits for the loop's answer to `request`, for at most `timeout`;
  // nothing when it did not come (or the bridge closed).
  std::optional<std::string> ask(std::string request, std::chrono::milliseconds timeout);

  // From the loop: answers every waiting request with `answer`.
  void serve(const std::function<std::string(const std::string&)>& answer);

  // Wakes every waiting ask() without an answer; later ones return at once.
  void close();

 private:
  struct Pending {
    std::string request;
    std::optional<std::string> answer;
  };
  std::mutex mu_;
  std::condition_variable answered_;
  std::deque<std::shared_ptr<Pending>> waiting_;
  bool closed_ = false;
};

}  // namespace waggle
