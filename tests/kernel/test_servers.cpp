#include "test_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace waggle::test {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free port");
  close(fd);
  return ntohs(a.sin_port);
}

Background::Background(const std::vector<std::string>& argv_in, const std::string& log_file) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setpgid(0, 0);  // its own group: stopping it reaches its children (nginx's worker)
    std::vector<std::string> copy = argv_in;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

bool Background::running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

Background::~Background() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGTERM);
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      kill(-pid_, SIGKILL);  // stragglers of the group, if any
      return;
    }
    usleep(50000);
  }
  kill(-pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool wait_for_port(int port, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return true;
    usleep(50000);
  }
  return false;
}

std::string http_get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto response = client.Get(path);
  return response && response->status == 200 ? response->body : std::string();
}

Nginx::Nginx(const TempDir& dir) : port_(free_port()) {
  std::string root = dir.mkdir("nginx");
  dir.mkdir("nginx/www");
  dir.mkdir("nginx/www/static");
  static_file_ = root + "/www/static/big.bin";
  std::ofstream(static_file_) << std::string(100000, 'b');
  // nginx's worker runs as an unprivileged user: let it reach the files it serves.
  chmod(dir.path().c_str(), 0711);
  chmod(root.c_str(), 0755);
  chmod((root + "/www").c_str(), 0755);
  chmod((root + "/www/static").c_str(), 0755);
  chmod(static_file_.c_str(), 0644);
  log_ = root + "/access.log";
  std::string conf = dir.file("nginx/nginx.conf",
                              "worker_processes 1;\n"
                              "daemon off;\n"
                              "pid " +
                                  root +
                                  "/nginx.pid;\n"
                                  "error_log " +
                                  root +
                                  "/error.log;\n"
                                  "events { worker_connections 512; }\n"
                                  "http {\n"
                                  "  log_format plain '$request_method $uri $status';\n"
                                  "  access_log " +
                                  log_ +
                                  " plain;\n"
                                  "  client_body_temp_path " +
                                  root +
                                  "/body;\n"
                                  "  proxy_temp_path " +
                                  root +
                                  "/proxy;\n"
                                  "  fastcgi_temp_path " +
                                  root +
                                  "/fastcgi;\n"
                                  "  uwsgi_temp_path " +
                                  root +
                                  "/uwsgi;\n"
                                  "  scgi_temp_path " +
                                  root +
                                  "/scgi;\n"
                                  "  sendfile on;\n"
                                  "  keepalive_requests 100000;\n"
                                  "  server {\n"
                                  "    listen 127.0.0.1:" +
                                  std::to_string(port_) +
                                  ";\n"
                                  "    root " +
                                  root +
                                  "/www;\n"
                                  "    location = / { return 200 \"home\\n\"; }\n"
                                  "    location /users/ { return 200 \"user\\n\"; }\n"
                                  "    location /api/orders { return 201 \"created\\n\"; }\n"
                                  "    location /static/ { }\n"
                                  // Compressed on the fly: chunked for HTTP/1.1, delimited by the
                                  // close for HTTP/1.0 (no length known in advance).
                                  "    location /zipped/ { alias " +
                                  root + "/www/static/; gzip on; gzip_types *; gzip_min_length 1; gzip_http_version 1.0; }\n"
                                  "  }\n"
                                  "}\n");
  process_ = std::make_unique<Background>(
      std::vector<std::string>{"/usr/sbin/nginx", "-c", conf, "-p", root, "-e", root + "/error.log"},
      root + "/stdout.log");
  if (!wait_for_port(port_, 10000))
    throw std::runtime_error("nginx did not start; see " + root + "/error.log");
}

Dnsmasq::Dnsmasq(const TempDir& dir) {
  std::string root = dir.mkdir("dnsmasq");
  process_ = std::make_unique<Background>(
      std::vector<std::string>{"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                               "--listen-address=" + std::string(kAddress), "--bind-interfaces", "--port=53",
                               "--address=/example.test/10.1.2.3", "--address=/example.test/2001:db8::3",
                               "--address=/nope.test/", "--pid-file=" + root + "/pid", "--user=root",
                               "--log-facility=" + root + "/log"},
      root + "/stdout.log");
  for (int i = 0; i < 100; i++) {  // ready once it answers
    Spawned probe = spawn(
        {"/usr/bin/dig", "+short", "+time=1", "+tries=1", std::string("@") + kAddress, "example.test", "A"});
    if (probe.out == "10.1.2.3\n") return;
    usleep(50000);
  }
  throw std::runtime_error("dnsmasq did not start; see " + root + "/stdout.log");
}

std::vector<std::string> Nginx::access_log() const {
  std::vector<std::string> lines;
  std::ifstream in(log_);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::map<std::map<std::string, std::string>, double> samples(
    const std::string& page, const std::string& family, const std::map<std::string, std::string>& match) {
  std::map<std::map<std::string, std::string>, double> found;
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t brace = line.find('{');
    size_t space = line.rfind(' ');
    std::string name = line.substr(0, brace == std::string::npos ? space : brace);
    if (name != family) continue;
    std::map<std::string, std::string> labels;
    if (brace != std::string::npos) {
      std::string body = line.substr(brace, line.rfind('}') - brace);
      for (std::sregex_iterator it(body.begin(), body.end(), kLabel), end; it != end; ++it)
        labels[(*it)[1]] = (*it)[2];
    }
    bool wanted = true;
    for (auto& [k, v] : match) wanted &= labels.count(k) && labels[k] == v;
    if (wanted) found[labels] = std::stod(line.substr(space + 1));
  }
  return found;
}

}  // namespace waggle::test
