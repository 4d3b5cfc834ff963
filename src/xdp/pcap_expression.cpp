// The only file that includes libpcap: its struct bpf_insn is not the kernel's.
#include "xdp/pcap_expression.hpp"

#include <pcap/pcap.h>

#include <cstring>
#include <ctime>

namespace waggle {

static_assert(sizeof(sock_filter) == sizeof(struct bpf_insn), "classic BPF instructions have one layout");

bool compile_pcap(const std::string& expression, std::vector<sock_filter>* program, std::string* error) {
  pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
  if (!p) {
    *error = "libpcap cannot open a dead Ethernet handle";
    return false;
  }
  bpf_program prog{};
  bool ok = pcap_compile(p, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
  if (ok) {
    program->resize(prog.bf_len);
    memcpy(program->data(), prog.bf_insns, prog.bf_len * sizeof(sock_filter));
    pcap_freecode(&prog);
  } else {
    *error = pcap_geterr(p);
  }
  pcap_close(p);
  return ok;
}

bool pcap_accepts(const std::vector<sock_filter>& program, const std::vector<uint8_t>& frame) {
  std::vector<sock_filter> copy = program;
  bpf_program prog{uint32_t(copy.size()), reinterpret_cast<struct bpf_insn*>(copy.data())};
  pcap_pkthdr header{};
  header.caplen = uint32_t(frame.size());
  header.len = uint32_t(frame.size());
  return pcap_offline_filter(&prog, &header, frame.data()) != 0;
}

}  // namespace waggle
