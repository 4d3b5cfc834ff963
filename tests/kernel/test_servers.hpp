// Real servers from Debian's packages, started by a test on loopback and stopped (with
// everything they wrote) at its end: nginx, dnsmasq and a Prometheus server.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent_runner.hpp"

namespace waggle::test {

// A free TCP port on 127.0.0.1 (bound and released: another process could take it, unlikely).
int free_port();

// A process started in the background, stopped with SIGTERM (then SIGKILL) when destroyed.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& log_file);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  int pid() const { return pid_; }
  bool running();

 private:
  int pid_ = -1;
};

// Waits until something accepts TCP connections on 127.0.0.1:port; false after timeout_ms.
bool wait_for_port(int port, int timeout_ms);

// GET http://127.0.0.1:port/path from this process; the body, or empty on failure.
std::string http_get(int port, const std::string& path);

// nginx serving a few routes on 127.0.0.1:port; its access log says what it served.
class Nginx {
 public:
  explicit Nginx(const TempDir& dir);
  int port() const { return port_; }
  // "METHOD URI STATUS" per served request, in order.
  std::vector<std::string> access_log() const;
  std::string static_file() const { return static_file_; }  // served at /static/big.bin, and gzipped at /zipped/big.bin

 private:
  int port_;
  std::string log_;
  std::string static_file_;
  std::unique_ptr<Background> process_;
};

// dnsmasq answering on 127.0.0.77:53 from its own records only: example.test is 10.1.2.3 (and
// 2001:db8::3), nope.test and its subdomains do not exist; anything else is refused.
class Dnsmasq {
 public:
  static constexpr const char* kAddress = "127.0.0.77";
  explicit Dnsmasq(const TempDir& dir);

 private:
  std::unique_ptr<Background> process_;
};

// The `http_server_request_duration_seconds_count` style samples of a Prometheus text page
// whose name is `family` and whose labels include every pair in `match`: their labels (all of
// them, as name=value) and values.
std::map<std::map<std::string, std::string>, double> samples(
    const std::string& page, const std::string& family, const std::map<std::string, std::string>& match = {});

}  // namespace waggle::test
