/* A program the kernel tests (and benchmarks) start, to make exactly the system calls a test
 * expects to see. Usage: test_helper MODE ARGS...; see usage() below. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *spin(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int usage(void) {
  fprintf(stderr,
          "usage: test_helper exit CODE | signal SIGNO | sleep MS | open PATH... | open-print PATH | creat PATH |\n"
          "       openat2 PATH | openat DIR NAME | openat-badfd NAME | chdir-open DIR NAME |\n"
          "       storm PATH COUNT | storm-until PATH STOPFILE | syscalls getppid|pipe COUNT |"
          "       exec-storm COUNT BINARY | threads COUNT CODE | connect IPV4 PORT | open-unfaulted PATH |\n"
          "       args ARG... | tcp-pair CLIENT_BYTES SERVER_BYTES [PORT] | tcp-reset |\n"
          "       tcp-send PORT BYTES... | http-keepalive PORT BEFORE AFTER GOFILE | udp-sendto IPV4 PORT |\n"
          "       inbound tcp|udp PORT SOURCE... | udp-roundtrip SERVER_IP | dns-sendto SERVER_IP NAME\n"
          "       dns-storm SERVER_IP NAME COUNT\n");
  return 64;
}

/* Prints "fd" or "-errno" for each open, so the test can compare with the agent's report. */
static void report(long ret) { printf("%ld\n", ret < 0 ? -(long)errno : ret); }

/* A listening socket on 127.0.0.1 with a port the kernel picks. */
static int listen_loopback(uint16_t *port) { /* *port 0: the kernel picks one */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
      getsockname(fd, (struct sockaddr *)&a, &len))
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

static int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? fd : -1;
}

static long write_bytes(int fd, long n) {
  char buf[4096];
  memset(buf, 'x', sizeof(buf));
  long done = 0;
  while (done < n) {
    ssize_t w = write(fd, buf, n - done < (long)sizeof(buf) ? (size_t)(n - done) : sizeof(buf));
    if (w <= 0) return -1;
    done += w;
  }
  return done;
}

static long read_to_eof(int fd) {
  char buf[4096];
  long total = 0;
  ssize_t r;
  while ((r = read(fd, buf, sizeof(buf))) > 0) total += r;
  return r < 0 ? -errno : total;
}

/* One TCP connection on loopback between this process (server) and a child (client): the
 * client sends CLIENT_BYTES and shuts down its side, the server reads to the end, answers
 * SERVER_BYTES and closes. Prints "SERVER_PID CLIENT_PID PORT SERVER_GOT CLIENT_GOT". With
 * reset: the server closes at once with SO_LINGER 0 (a reset), the client only reads. */
static int tcp_pair(long client_bytes, long server_bytes, int reset, uint16_t port) {
  int lfd = listen_loopback(&port);
  if (lfd < 0) return 2;
  int pipefd[2];
  if (pipe(pipefd)) return 2;
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    int fd = connect_loopback(port);
    if (fd < 0) _exit(2);
    if (!reset && (write_bytes(fd, client_bytes) < 0 || shutdown(fd, SHUT_WR))) _exit(2);
    long got = read_to_eof(fd);
    if (write(pipefd[1], &got, sizeof(got)) != sizeof(got)) _exit(2);
    close(fd);
    _exit(0);
  }
  close(pipefd[1]);
  int cfd = accept(lfd, NULL, NULL);
  if (cfd < 0) return 2;
  long got = 0;
  if (reset) {
    struct linger l = {1, 0};
    setsockopt(cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  } else {
    got = read_to_eof(cfd);
    if (write_bytes(cfd, server_bytes) < 0) return 2;
  }
  close(cfd);
  long client_got = 0;
  if (read(pipefd[0], &client_got, sizeof(client_got)) != sizeof(client_got)) return 2;
  int status;
  waitpid(child, &status, 0);
  printf("%d %d %u %ld %ld\n", getpid(), child, port, got, client_got);
  return 0;
}

/* An IPv4 or IPv6 address (text) and port as a sockaddr; returns its length. */
static socklen_t make_addr(const char *ip, uint16_t port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    return sizeof(*a);
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  inet_pton(AF_INET, ip, &a->sin_addr);
  return sizeof(*a);
}

/* A socket of `type` bound to `addr` (IPv4 or IPv6) port `port` (0: the kernel picks). */
static int bound_socket(int type, const char *addr, uint16_t port) {
  struct sockaddr_storage a;
  socklen_t len = make_addr(addr, port, &a);
  int fd = socket(a.ss_family, type, 0);
  int one = 1; /* a port an earlier server left in TIME_WAIT is free again */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  return fd >= 0 && bind(fd, (struct sockaddr *)&a, len) == 0 ? fd : -1;
}

static const char *peer_of(const struct sockaddr_storage *a, char *buf) {
  if (a->ss_family == AF_INET6)
    return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, buf, INET6_ADDRSTRLEN);
  return inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, buf, INET6_ADDRSTRLEN);
}

/* Inbound traffic to PORT of 127.0.0.1 (of ::1 when the first SOURCE is IPv6) from each SOURCE
 * (a loopback address). tcp: a connect from each (a second to complete: "SOURCE connected",
 * "SOURCE timeout" or "SOURCE -errno"), then every connection accepted ("accepted PEER"). udp:
 * a datagram from each, then every one received ("received PEER"). Lines are written as they
 * happen: a kill leaves what came before. */
static int inbound(const char *proto, uint16_t port, int count, char **sources) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int tcp = !strcmp(proto, "tcp");
  const char *server_ip = strchr(sources[0], ':') ? "::1" : "127.0.0.1";
  int server = bound_socket(tcp ? SOCK_STREAM : SOCK_DGRAM, server_ip, port);
  if (server < 0 || (tcp && listen(server, 16))) return 2;
  struct sockaddr_storage to;
  socklen_t to_len = make_addr(server_ip, port, &to);
  for (int i = 0; i < count; i++) {
    int fd = bound_socket(tcp ? SOCK_STREAM : SOCK_DGRAM, sources[i], 0);
    if (fd < 0) return 3;
    if (!tcp) {
      if (sendto(fd, "x", 1, 0, (struct sockaddr *)&to, to_len) != 1) return 4;
      continue;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (connect(fd, (struct sockaddr *)&to, to_len) == 0) {
      printf("%s connected\n", sources[i]);
      continue;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);
    if (errno != EINPROGRESS) {
      err = errno;
    } else if (poll(&p, 1, 1000) != 1) {
      printf("%s timeout\n", sources[i]);
      continue;
    } else {
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err)
      printf("%s %d\n", sources[i], -err);
    else
      printf("%s connected\n", sources[i]);
  }
  fcntl(server, F_SETFL, O_NONBLOCK);
  for (;;) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    char text[INET6_ADDRSTRLEN];
    if (tcp) {
      int fd = accept(server, (struct sockaddr *)&peer, &len);
      if (fd < 0) break;
      printf("accepted %s\n", peer_of(&peer, text));
    } else {
      struct pollfd p = {.fd = server, .events = POLLIN};
      char byte;
      if (poll(&p, 1, 500) != 1 || recvfrom(server, &byte, 1, 0, (struct sockaddr *)&peer, &len) != 1) break;
      printf("received %s\n", peer_of(&peer, text));
    }
  }
  return 0;
}

/* A UDP question and its answer: a server bound to SERVER_IP, a client on 127.0.0.1 connected
 * to it. Prints "answered" or "timeout" (a second to wait). */
static int udp_roundtrip(const char *server_ip) {
  int server = bound_socket(SOCK_DGRAM, server_ip, 0);
  int client = bound_socket(SOCK_DGRAM, "127.0.0.1", 0);
  struct sockaddr_storage a;
  socklen_t len = sizeof(a);
  if (server < 0 || client < 0 || getsockname(server, (struct sockaddr *)&a, &len) ||
      connect(client, (struct sockaddr *)&a, len) || send(client, "q", 1, 0) != 1)
    return 2;
  char byte;
  struct sockaddr_storage from;
  len = sizeof(from);
  if (recvfrom(server, &byte, 1, 0, (struct sockaddr *)&from, &len) != 1 ||
      sendto(server, "a", 1, 0, (struct sockaddr *)&from, len) != 1)
    return 3;
  struct pollfd p = {.fd = client, .events = POLLIN};
  printf(poll(&p, 1, 1000) == 1 && recv(client, &byte, 1, 0) == 1 ? "answered\n" : "timeout\n");
  return 0;
}

/* Writes the question for NAME (type A, class IN) after the 12-byte header in q (512 bytes):
 * the query's length, or 0 if NAME is not a name. */
static size_t dns_question(unsigned char *q, const char *name) {
  size_t at = 12;
  for (const char *label = name; *label;) {
    const char *dot = strchr(label, '.');
    size_t len = dot ? (size_t)(dot - label) : strlen(label);
    if (len == 0 || len > 63 || at + len + 6 > 512) return 0;
    q[at++] = (unsigned char)len;
    memcpy(q + at, label, len);
    at += len;
    label += len + (dot ? 1 : 0);
  }
  q[at++] = 0;
  q[at++] = 0, q[at++] = 1; /* type A */
  q[at++] = 0, q[at++] = 1; /* class IN */
  return at;
}

/* A DNS query for an A record of `name`, sent with sendto on an unconnected UDP socket to
 * server_ip:53; the answer is taken with recvfrom. Prints the answer's rcode, or "timeout". */
static int dns_sendto(const char *server_ip, const char *name) {
  unsigned char q[512] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}; /* id, RD, one question */
  size_t at = dns_question(q, name);
  if (!at) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, server_ip, &to.sin_addr);
  if (fd < 0 || sendto(fd, q, at, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)at) return 3;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  unsigned char answer[512];
  struct sockaddr_in from;
  socklen_t len = sizeof(from);
  ssize_t n = poll(&p, 1, 2000) == 1 ? recvfrom(fd, answer, sizeof(answer), 0, (struct sockaddr *)&from, &len) : -1;
  if (n < 4) {
    printf("timeout\n");
  } else {
    printf("rcode %d\n", answer[3] & 0x0f);
  }
  return 0;
}

/* COUNT queries for NAME (type A), one after the other, each awaiting its answer (1 s at
 * most), on one socket connected to SERVER_IP:53: prints how many were answered and the time. */
static int dns_storm(const char *server_ip, const char *name, long count) {
  unsigned char q[512] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t at = dns_question(q, name);
  if (!at) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
  inet_pton(AF_INET, server_ip, &to.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to))) return 3;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long answered = 0;
  for (long i = 0; i < count; i++) {
    q[0] = (unsigned char)(i >> 8), q[1] = (unsigned char)i;
    if (send(fd, q, at, 0) != (ssize_t)at) return 4;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    unsigned char answer[512];
    if (poll(&p, 1, 1000) == 1 && recv(fd, answer, sizeof(answer), 0) >= 12 && answer[0] == q[0] && answer[1] == q[1])
      answered++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("answered %ld of %ld in %.6f s\n", answered, count,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *mode = argv[1];
  if (!strcmp(mode, "exit") && argc == 3) return atoi(argv[2]);
  if (!strcmp(mode, "signal") && argc == 3) {
    signal(atoi(argv[2]), SIG_DFL);
    raise(atoi(argv[2]));
    return 99;
  }
  if (!strcmp(mode, "sleep") && argc == 3) {
    struct timespec ts = {atoi(argv[2]) / 1000, (atoi(argv[2]) % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
  }
  if (!strcmp(mode, "args")) return 0;
  if (!strcmp(mode, "threads") && argc == 4) { /* N threads, then exit_group(CODE) from main */
    for (int i = 0; i < atoi(argv[2]); i++) {
      pthread_t t;
      pthread_create(&t, NULL, spin, NULL);
    }
    exit(atoi(argv[3]));
  }
  if (!strcmp(mode, "open") && argc >= 3) {
    for (int i = 2; i < argc; i++) {
      int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
      report(fd);
      if (fd >= 0) close(fd);
    }
    return 0;
  }
  if (!strcmp(mode, "open-print") && argc == 3) { /* open, then print what the file holds */
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) return 3;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) fwrite(buf, 1, n, stdout);
    return 0;
  }
  if (!strcmp(mode, "connect") && argc == 4) { /* TCP connect to IPv4 ADDR PORT: prints 0 or -errno */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    int ret = connect(fd, (struct sockaddr *)&to, sizeof(to));
    printf("%d\n", ret < 0 ? -errno : 0);
    return 0;
  }
  if (!strcmp(mode, "open-unfaulted") && argc == 3) {
    /* The path passed from a page not yet faulted in: a tracepoint cannot read it at entry. */
    char tmpl[] = "/tmp/waggle-unfaulted-XXXXXX";
    int tmp = mkstemp(tmpl);
    if (tmp < 0 || write(tmp, argv[2], strlen(argv[2]) + 1) < 0) return 2;
    char *path = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, tmp, 0);
    unlink(tmpl);
    if (path == MAP_FAILED) return 2;
    int fd = open(path, O_RDONLY); /* the kernel faults the page in, the tracepoint could not */
    report(fd);
    char buf[4096];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
    if (n > 0) fwrite(buf, 1, n, stdout);
    return 0;
  }
  if (!strcmp(mode, "creat") && argc == 3) {
    int fd = creat(argv[2], 0600);
    report(fd);
    return 0;
  }
  if (!strcmp(mode, "openat2") && argc == 3) {
    struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW, .mode = 0, .resolve = 0};
    long fd = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof(how));
    report(fd);
    return 0;
  }
  if (!strcmp(mode, "openat") && argc == 4) {
    int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
    if (dir < 0) return 2;
    int fd = openat(dir, argv[3], O_RDONLY);
    report(fd);
    return 0;
  }
  if (!strcmp(mode, "openat-badfd") && argc == 3) {
    int fd = openat(987, argv[2], O_RDONLY); /* 987: a descriptor this process never opened */
    report(fd);
    return 0;
  }
  if (!strcmp(mode, "chdir-open") && argc == 4) {
    if (chdir(argv[2]) != 0) return 2;
    int fd = open(argv[3], O_RDONLY);
    report(fd);
    return 0;
  }
  if (!strcmp(mode, "syscalls") && argc == 4) {
    /* COUNT getppid() calls (no sensor looks at them) or COUNT 1-byte writes and reads through a
       pipe; prints the nanoseconds per call. */
    long count = atol(argv[3]);
    int p[2];
    char c = 'x';
    if (pipe(p)) return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < count; i++) {
      if (!strcmp(argv[2], "getppid")) {
        syscall(SYS_getppid);
      } else if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
        return 2;
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    printf("%.1f\n", ns / (double)count / (strcmp(argv[2], "getppid") ? 2 : 1));
    return 0;
  }
  if (!strcmp(mode, "storm") && argc == 4) {
    long count = atol(argv[3]);
    for (long i = 0; i < count; i++) {
      int fd = open(argv[2], O_RDONLY);
      if (fd < 0) return 2;
      close(fd);
    }
    return 0;
  }
  if (!strcmp(mode, "storm-until") && argc == 4) {
    /* Opens PATH until STOPFILE exists and prints the count. Paced (1 ms pause every 100 opens,
       tens of thousands per second) so that a long run does not fill the disk with events. */
    long count = 0;
    struct timespec pause = {0, 1000000L};
    while (count % 100 != 0 || access(argv[3], F_OK) != 0) {
      if (count % 100 == 0 && count > 0) nanosleep(&pause, NULL);
      int fd = open(argv[2], O_RDONLY);
      if (fd < 0) return 2;
      close(fd);
      count++;
    }
    printf("%ld\n", count);
    return 0;
  }
  if (!strcmp(mode, "tcp-pair") && (argc == 4 || argc == 5))
    return tcp_pair(atol(argv[2]), atol(argv[3]), 0, argc == 5 ? (uint16_t)atoi(argv[4]) : 0);
  if (!strcmp(mode, "tcp-reset") && argc == 2) return tcp_pair(0, 0, 1, 0);
  if ((!strcmp(mode, "tcp-send") && argc >= 4) || (!strcmp(mode, "tcp-send-paced") && argc >= 5)) {
    /* Sends each BYTES argument with its own write (20 ms apart; tcp-send-paced PORT MS: MS
       after each write, reads what came back, and MS later writes the next) to 127.0.0.1:PORT,
       then prints what comes back. */
    int fd = connect_loopback((uint16_t)atoi(argv[2]));
    if (fd < 0) return 2;
    const int paced = !strcmp(mode, "tcp-send-paced");
    const long ms = paced ? atol(argv[3]) : 20;
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    char got[65536];
    for (int i = paced ? 4 : 3; i < argc; i++) {
      if (i > (paced ? 4 : 3)) {
        nanosleep(&pause, NULL);
        if (paced) { /* the answers so far, as a client reads them, MS before its next request */
          ssize_t n = recv(fd, got, sizeof(got), MSG_DONTWAIT);
          if (n > 0) fwrite(got, 1, (size_t)n, stdout);
          nanosleep(&pause, NULL);
        }
      }
      if (write(fd, argv[i], strlen(argv[i])) < 0) return 2;
    }
    if (shutdown(fd, SHUT_WR)) return 2;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) fwrite(buf, 1, (size_t)n, stdout);
    return 0;
  }
  if (!strcmp(mode, "udp-roundtrip") && argc == 3) return udp_roundtrip(argv[2]);
  if (!strcmp(mode, "dns-sendto") && argc == 4) return dns_sendto(argv[2], argv[3]);
  if (!strcmp(mode, "dns-storm") && argc == 5) return dns_storm(argv[2], argv[3], atol(argv[4]));
  if (!strcmp(mode, "inbound") && argc >= 5 && (!strcmp(argv[2], "tcp") || !strcmp(argv[2], "udp")))
    return inbound(argv[2], (uint16_t)atoi(argv[3]), argc - 4, argv + 4);
  if (!strcmp(mode, "udp-sendto") && argc == 4) { /* one datagram, no connect: prints 0 or -errno */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    ssize_t ret = sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
    printf("%d\n", ret < 0 ? -errno : 0);
    return 0;
  }
  if (!strcmp(mode, "http-keepalive") && argc == 6) {
    /* On one connection: BEFORE requests, "ready", then once GOFILE exists, AFTER requests. */
    int fd = connect_loopback((uint16_t)atoi(argv[2]));
    if (fd < 0) return 2;
    for (int phase = 0; phase < 2; phase++) {
      if (phase == 1) {
        printf("ready\n");
        fflush(stdout);
        while (access(argv[5], F_OK) != 0) usleep(10000);
      }
      for (long i = 0; i < atol(argv[3 + phase]); i++) {
        char request[128], response[4096];
        int len = snprintf(request, sizeof(request), "GET /users/%ld HTTP/1.1\r\nHost: x\r\n\r\n", i);
        if (write(fd, request, (size_t)len) != len || read(fd, response, sizeof(response)) <= 0) return 2;
      }
    }
    close(fd);
    return 0;
  }
  if (!strcmp(mode, "exec-storm") && argc == 4) {
    long count = atol(argv[2]);
    for (long i = 0; i < count; i++) {
      pid_t pid = fork();
      if (pid == 0) {
        execl(argv[3], argv[3], (char *)NULL);
        _exit(127);
      }
      int status;
      if (pid < 0 || waitpid(pid, &status, 0) < 0) return 2;
    }
    return 0;
  }
  return usage();
}
