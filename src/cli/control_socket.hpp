// The agent's control socket: a Unix stream socket only root can use, one request per
// connection. Request: a command line, '\n', then a body; the client closes its writing side.
// Reply: "ok" or "error" on the first line, then text.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace waggle {

inline constexpr const char* kDefaultControlSocket = "/run/waggle/waggle.sock";

class ControlServer {
 public:
  // Creates the socket (its directory 0700, the socket 0600). A live agent already on `path`
  // is an error; a stale socket file is replaced.
  static std::unique_ptr<ControlServer> listen(const std::string& path, std::string* error);
  ~ControlServer();

  // Answers every request waiting, without blocking when there is none.
  void serve(const std::function<std::string(const std::string& request)>& handle);

 private:
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Sends one request and returns the reply, or nothing (with *error) when the agent cannot be
// reached.
std::optional<std::string> control_request(const std::string& path, const std::string& request,
                                           std::string* error);

}  // namespace waggle
