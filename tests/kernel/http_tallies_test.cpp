// Reading the kernel's HTTP tallies, against real BPF maps of the same types the network
// sensor makes (filled from here, one value per CPU): what changed since the last read is handed
// on once, whatever part of a tally changed; a tally without a name waits for it; a tally whose
// process is gone is read a last time and removed with its name.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "agent_runner.hpp"
#include "sensors/network/http_tallies.hpp"

namespace waggle::test {
namespace {

class HttpTalliesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_unless_bpf();
    cpus_ = libbpf_num_possible_cpus();
    ASSERT_GT(cpus_, 0);
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
    tallies_ = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "test_tallies", sizeof(wg_http_tally_key),
                              sizeof(wg_http_tally), 64, &opts);
    names_ = bpf_map_create(BPF_MAP_TYPE_HASH, "test_names", sizeof(wg_http_tally_key), sizeof(wg_http_tally_name),
                            64, &opts);
    ASSERT_GE(tallies_, 0);
    ASSERT_GE(names_, 0);
  }
  void TearDown() override {
    if (tallies_ >= 0) close(tallies_);
    if (names_ >= 0) close(names_);
  }

  static wg_http_tally_key key(uint32_t pid, uint16_t status) {
    wg_http_tally_key k{};
    k.pid = pid;
    k.start_boottime = 1000 + pid;
    k.status = status;
    k.role = WG_HTTP_SERVER;
    k.target_hash = 42;
    k.target_len = 2;
    return k;
  }
  void name(const wg_http_tally_key& k) {
    wg_http_tally_name n{};
    n.h.pid = k.pid;
    n.target[0] = '/';
    n.target[1] = 'a';
    ASSERT_EQ(bpf_map_update_elem(names_, &k, &n, BPF_ANY), 0);
  }
  // CPU c's value: count exchanges of c + 1 ms each, in bucket `bucket`.
  void set(const wg_http_tally_key& k, uint64_t count, size_t bucket) {
    std::vector<wg_http_tally> values(static_cast<size_t>(cpus_));
    for (int c = 0; c < cpus_; c++) {
      values[size_t(c)].count = count;
      values[size_t(c)].sum_ns = count * uint64_t(c + 1) * 1'000'000;
      values[size_t(c)].buckets[bucket] = count;
    }
    ASSERT_EQ(bpf_map_update_elem(tallies_, &k, values.data(), BPF_ANY), 0);
  }

  HttpTallies reader() {
    return HttpTallies(
        tallies_, names_,
        [](const wg_http_tally_key& k, const wg_http_tally_name& n, HttpEvent* e) {
          e->status = k.status;
          e->route = std::string(n.target, k.target_len);
          return k.pid != 13;  // an unselected process
        },
        [this](uint32_t pid, uint64_t) { return gone_.count(pid) > 0; });
  }

  int cpus_ = 0;
  int tallies_ = -1, names_ = -1;
  std::set<uint32_t> gone_;
};

// The tallies handed on by a read, by status.
std::map<int, HttpTally> read(HttpTallies& t, uint64_t now_ns) {
  std::vector<Event> out;
  t.read(now_ns, &out);
  std::map<int, HttpTally> by_status;
  for (const Event& event : out) {
    const auto& e = std::get<HttpEvent>(event);
    EXPECT_TRUE(e.metrics_only);
    EXPECT_EQ(e.route, "/a");
    EXPECT_FALSE(by_status.count(e.status)) << "one event per tally";
    by_status[e.status] = *e.tally;
  }
  return by_status;
}

TEST_F(HttpTalliesTest, WhatChangedIsHandedOnOnceAndAGoneProcessTallyIsRemoved) {
  HttpTallies t = reader();
  const wg_http_tally_key a = key(7, 200), b = key(7, 404), hidden = key(13, 200), unnamed = key(8, 200);
  name(a);
  name(b);
  name(hidden);
  set(a, 3, 0);
  set(b, 1, 14);
  set(hidden, 5, 0);
  set(unnamed, 2, 0);
  auto first = read(t, 1);
  ASSERT_EQ(first.size(), 2u);  // not the unselected process's, nor the one without a name yet
  EXPECT_EQ(first[200].count, 3u * cpus_);
  EXPECT_EQ(first[200].buckets[0], 3u * cpus_);
  uint64_t sum = 0;
  for (int c = 0; c < cpus_; c++) sum += 3 * uint64_t(c + 1) * 1'000'000;
  EXPECT_EQ(first[200].sum_ns, sum);
  EXPECT_EQ(first[404].buckets[14], 1u * cpus_);
  EXPECT_EQ(t.tallies(), 3u);

  // The tally's name comes (the kernel writes it first; here it is late): it is counted from
  // its start. Nothing else changed.
  name(unnamed);
  auto named = read(t, 2);
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[200].count, 2u * cpus_);
  // Nothing changed: nothing handed on. Then only a's buckets change (its count read before
  // the kernel's bucket update, say): that is handed on too.
  EXPECT_TRUE(read(t, 2).empty());
  set(a, 3, 1);
  auto moved = read(t, 3);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[200].count, 0u);
  EXPECT_EQ(moved[200].buckets[1], 3u * cpus_);

  // pid 7 is gone: a, idle, is removed with its name; b, which had one more exchange, at the
  // next read (a process's busy tallies are not checked).
  gone_.insert(7);
  set(b, 2, 14);
  auto last = read(t, 5);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[404].count, 1u * cpus_);
  EXPECT_EQ(t.removed(), 1u);
  EXPECT_TRUE(read(t, 6).empty());
  EXPECT_EQ(t.removed(), 2u);
  for (const wg_http_tally_key& k : {a, b}) {
    std::vector<wg_http_tally> values(static_cast<size_t>(cpus_));
    wg_http_tally_name n;
    EXPECT_NE(bpf_map_lookup_elem(tallies_, &k, values.data()), 0);
    EXPECT_NE(bpf_map_lookup_elem(names_, &k, &n), 0);
  }
  EXPECT_EQ(t.tallies(), 2u);  // hidden's and unnamed's
  EXPECT_EQ(t.read_failures(), 0u);
}

// A tally still without a name at its second read is removed, uncounted, to free its slot.
TEST_F(HttpTalliesTest, ATallyThatStaysNamelessIsRemoved) {
  HttpTallies t = reader();
  const wg_http_tally_key k = key(9, 200);
  set(k, 1, 0);
  EXPECT_TRUE(read(t, 1).empty());
  EXPECT_EQ(t.unnamed(), 0u);
  EXPECT_TRUE(read(t, 2).empty());
  EXPECT_EQ(t.unnamed(), 1u);
  EXPECT_EQ(t.removed(), 0u);  // counted as unnamed only
  std::vector<wg_http_tally> values(static_cast<size_t>(cpus_));
  EXPECT_NE(bpf_map_lookup_elem(tallies_, &k, values.data()), 0);
}

}  // namespace
}  // namespace waggle::test
