// Classic BPF (a compiled tcpdump expression) translated to an eBPF XDP program, with the
// bounds checks the verifier needs: every packet load is checked against the frame's end, and
// a load past it rejects the packet (as classic BPF does). The program then records its
// verdict as one bit of the XDP filter's per-CPU packet state and tail-calls the next program
// of the chain (docs/xdp.md#tcpdump-expressions).
#pragma once

#include <linux/bpf.h>
#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace waggle {

constexpr size_t kMaxClassicInstructions = 1024;

struct ClassicTail {
  int state_map_fd = -1;   // per-CPU array, key 0: a u32 of verdict bits at offset 0
  uint32_t bit = 0;        // the bit this expression sets when it accepts
  int prog_array_fd = -1;  // tail-called at index `next`
  uint32_t next = 0;
  int counters_fd = -1;     // per-CPU {packets, bytes}: a failed tail call counts at broken_slot
  uint32_t broken_slot = 0;
};

// Why the classic program cannot be translated (Linux ancillary loads, too long, a jump out
// of it), or empty.
std::string check_classic(const std::vector<sock_filter>& program);

// The eBPF program. check_classic() must have passed.
std::vector<bpf_insn> translate_classic(const std::vector<sock_filter>& program, const ClassicTail& tail);

}  // namespace waggle
