// The profiler's test program, built -O2 -fomit-frame-pointer -fno-optimize-sibling-calls:
// known call chains, none inlined, with the CPU time spent in each leaf measured by the
// program itself and printed at the end as "LEAF SECONDS" lines.
//
//   profile_target chains SECONDS PLUGIN.so   three chains, 50/30/20 of the time:
//       main;run_chains;sort_phase;qsort;compare_spin
//       main;run_chains;plugin_phase;plugin_entry;plugin_leaf     (dlopen'ed)
//       main;run_chains;waggle_test::Matrix::multiply(int);waggle_test::Matrix::inner<3>(int)
//   profile_target write SECONDS              write(2) of one byte to /dev/null in a loop
//   profile_target jit SECONDS                spins in code it wrote to an anonymous executable page,
//                                             named jit_spin_loop in /tmp/perf-PID.map (as JITs do)
//   profile_target fixed ITERATIONS           a fixed amount of work; prints its wall seconds
//   profile_target children COUNT MS          COUNT children one after another, each named
//                                             kidNNN, spinning MS of CPU in child_spin
//   profile_target wait SECONDS               blocks, in rounds: 30 ms in sleep_wait (nanosleep),
//                                             20 ms in read_wait (a pipe a child writes to), 10 ms in
//                                             poll_wait (poll's timeout); prints "FUNCTION SECONDS" of
//                                             wall time spent in each
//   profile_target alternate SECONDS          9 ms in long_wait, then 1 ms in short_wait (nanosleep),
//                                             over and over; prints wall seconds in each
//   profile_target pingpong ROUNDS            ROUNDS round trips of a byte with a child over two
//                                             pipes (each side blocks once a trip); prints wall seconds
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spin.h"

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

volatile long compare_iterations = 2000;

}  // namespace

extern "C" __attribute__((noinline)) int compare_spin(const void* a, const void* b) {
  spin_here(compare_iterations);
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

extern "C" __attribute__((noinline)) void sort_phase(int* values, size_t n) {
  qsort(values, n, sizeof(int), compare_spin);
}

extern "C" __attribute__((noinline)) void plugin_phase(double (*entry)(long), long iterations) {
  entry(iterations);
}

namespace waggle_test {
class Matrix {
 public:
  template <int N>
  __attribute__((noipa)) double inner(int iterations) {
    return spin_here(long(iterations) * N / 3);
  }
  __attribute__((noipa)) double multiply(int iterations) { return inner<3>(iterations) + 1; }
};
}  // namespace waggle_test

// One round runs each phase until it has used its share of `slice` seconds of CPU.
extern "C" __attribute__((noinline)) void run_chains(double seconds, double (*plugin)(long)) {
  const double shares[3] = {0.5, 0.3, 0.2};
  double spent[3] = {0, 0, 0};
  const double slice = 0.1;
  int values[24];
  waggle_test::Matrix matrix;
  double start = thread_cpu_seconds();
  while (thread_cpu_seconds() - start < seconds) {
    for (int phase = 0; phase < 3; phase++) {
      double phase_start = thread_cpu_seconds();
      while (thread_cpu_seconds() - phase_start < slice * shares[phase]) {
        if (phase == 0) {
          for (int i = 0; i < 24; i++) values[i] = (i * 7919) % 24;
          sort_phase(values, 24);
        } else if (phase == 1) {
          plugin_phase(plugin, 200000);
        } else {
          matrix.multiply(200000);
        }
      }
      spent[phase] += thread_cpu_seconds() - phase_start;
    }
  }
  printf("compare_spin %.6f\nplugin_leaf %.6f\nwaggle_test::Matrix::inner<3>(int) %.6f\n", spent[0], spent[1],
         spent[2]);
}

extern "C" __attribute__((noinline)) void write_loop(double seconds) {
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  double start = thread_cpu_seconds();
  char byte = 'x';
  while (thread_cpu_seconds() - start < seconds)
    for (int i = 0; i < 1000; i++)
      if (write(fd, &byte, 1) != 1) exit(3);
  close(fd);
}

extern "C" __attribute__((noinline)) void child_spin(double seconds) {
  double start = thread_cpu_seconds();
  while (thread_cpu_seconds() - start < seconds) spin_here(20000);
}

extern "C" __attribute__((noinline)) int run_children(int count, int ms) {
  for (int i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      char name[16];
      snprintf(name, sizeof(name), "kid%03d", i);
      prctl(PR_SET_NAME, name);
      child_spin(ms / 1000.0);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return 0;
}

extern "C" __attribute__((noinline)) void fixed_work(long iterations) {
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long done = 0; done < iterations; done += 100000) spin_here(100000);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.6f\n", double(b.tv_sec - a.tv_sec) + double(b.tv_nsec - a.tv_nsec) / 1e9);
}

// x86-64: mov rax, rdi; 1: dec rax; jnz 1b; ret
const unsigned char kJitLoop[] = {0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3};

extern "C" __attribute__((noinline)) int jit_loop(double seconds) {
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  memcpy(page, kJitLoop, sizeof(kJitLoop));
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) return 1;
  char map[64];
  snprintf(map, sizeof(map), "/tmp/perf-%d.map", getpid());
  FILE* f = fopen(map, "w");
  if (!f) return 1;
  fprintf(f, "%lx %zx jit_spin_loop\n", reinterpret_cast<unsigned long>(page), sizeof(kJitLoop));
  fclose(f);
  auto loop = reinterpret_cast<void (*)(long)>(page);
  double start = thread_cpu_seconds();
  while (thread_cpu_seconds() - start < seconds) loop(10000000);
  unlink(map);
  return 0;
}

namespace {
double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}
}  // namespace

extern "C" __attribute__((noinline)) void sleep_wait() {
  timespec ts{0, 30 * 1000 * 1000};
  nanosleep(&ts, nullptr);
}

extern "C" __attribute__((noinline)) void read_wait(int fd) {
  char byte = 0;
  if (read(fd, &byte, 1) != 1) exit(4);
}

extern "C" __attribute__((noinline)) void poll_wait() { poll(nullptr, 0, 10); }

// The writer child sleeps 20 ms after each byte it is asked for, then writes it.
extern "C" __attribute__((noinline)) int wait_loop(double seconds) {
  int ask[2], answer[2];
  if (pipe(ask) != 0 || pipe(answer) != 0) return 1;
  pid_t writer = fork();
  if (writer < 0) return 1;
  if (writer == 0) {
    close(ask[1]);  // or its read never sees the end
    close(answer[0]);
    char byte = 0;
    while (read(ask[0], &byte, 1) == 1) {
      timespec ts{0, 20 * 1000 * 1000};
      nanosleep(&ts, nullptr);
      if (write(answer[1], &byte, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(ask[0]);
  close(answer[1]);
  double spent[3] = {0, 0, 0};
  double start = monotonic_seconds();
  while (monotonic_seconds() - start < seconds) {
    double t0 = monotonic_seconds();
    sleep_wait();
    double t1 = monotonic_seconds();
    char byte = 'x';
    if (write(ask[1], &byte, 1) != 1) return 1;
    read_wait(answer[0]);
    double t2 = monotonic_seconds();
    poll_wait();
    double t3 = monotonic_seconds();
    spent[0] += t1 - t0;
    spent[1] += t2 - t1;
    spent[2] += t3 - t2;
  }
  close(ask[1]);
  waitpid(writer, nullptr, 0);
  printf("sleep_wait %.6f\nread_wait %.6f\npoll_wait %.6f\n", spent[0], spent[1], spent[2]);
  return 0;
}

static void sleep_ms(long ms) {
  timespec ts{0, ms * 1000 * 1000};
  nanosleep(&ts, nullptr);
}
extern "C" __attribute__((noinline)) void long_wait() { sleep_ms(9); }
extern "C" __attribute__((noinline)) void short_wait() { sleep_ms(1); }

extern "C" __attribute__((noinline)) int alternate(double seconds) {
  double spent[2] = {0, 0};
  double start = monotonic_seconds();
  while (monotonic_seconds() - start < seconds) {
    double t0 = monotonic_seconds();
    long_wait();
    double t1 = monotonic_seconds();
    short_wait();
    spent[0] += t1 - t0;
    spent[1] += monotonic_seconds() - t1;
  }
  printf("long_wait %.6f\nshort_wait %.6f\n", spent[0], spent[1]);
  return 0;
}

extern "C" __attribute__((noinline)) int ping_pong(long rounds) {
  int there[2], back[2];
  if (pipe(there) != 0 || pipe(back) != 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  char byte = 'x';
  if (child == 0) {
    close(there[1]);
    close(back[0]);
    while (read(there[0], &byte, 1) == 1)
      if (write(back[1], &byte, 1) != 1) _exit(1);
    _exit(0);
  }
  close(there[0]);
  close(back[1]);
  double start = monotonic_seconds();
  for (long i = 0; i < rounds; i++)
    if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1) return 1;
  double seconds = monotonic_seconds() - start;
  close(there[1]);
  waitpid(child, nullptr, 0);
  printf("%.6f\n", seconds);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "jit") == 0) return jit_loop(atof(argv[2]));
  if (argc >= 3 && strcmp(argv[1], "fixed") == 0) {
    fixed_work(atol(argv[2]));
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "chains") == 0) {
    void* plugin = dlopen(argv[3], RTLD_NOW);
    if (!plugin) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      return 2;
    }
    auto entry = reinterpret_cast<double (*)(long)>(dlsym(plugin, "plugin_entry"));
    if (!entry) return 2;
    run_chains(atof(argv[2]), entry);
    fflush(stdout);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "write") == 0) {
    write_loop(atof(argv[2]));
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "children") == 0) return run_children(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 3 && strcmp(argv[1], "alternate") == 0) {
    int rc = alternate(atof(argv[2]));
    fflush(stdout);
    return rc;
  }
  if (argc >= 3 && strcmp(argv[1], "pingpong") == 0) {
    int rc = ping_pong(atol(argv[2]));
    fflush(stdout);
    return rc;
  }
  if (argc >= 3 && strcmp(argv[1], "wait") == 0) {
    int rc = wait_loop(atof(argv[2]));
    fflush(stdout);
    return rc;
  }
  fprintf(stderr,
          "usage: profile_target chains SECONDS PLUGIN.so | write SECONDS | jit SECONDS | fixed ITERATIONS | "
          "children COUNT MS | wait SECONDS | alternate SECONDS | pingpong ROUNDS\n");
  return 2;
}
