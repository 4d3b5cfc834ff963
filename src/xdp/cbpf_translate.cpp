#include "xdp/cbpf_translate.hpp"

#include <fmt/format.h>

namespace waggle {

namespace {

// Registers: r6 the XDP context, r7 the frame's start, r8 its end, r0 the accumulator A (a
// helper's result lands there, which is what a length load wants), r9 the index register X
// and, at the end, the verdict; r2 and r3 are scratch. Classic BPF's 16 memory words live at
// r10 - 64; the state map's key at r10 - 72; A is kept at r10 - 80 across a call.
constexpr uint8_t kCtx = 6, kData = 7, kEnd = 8, kA = 0, kX = 9, kT1 = 2, kT2 = 3, kFp = 10;
constexpr int16_t kMem = -64, kKey = -72, kSaveA = -80;

bpf_insn ins(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

enum Label : size_t { kFail = SIZE_MAX - 4, kTail, kNext, kOut, kPass };

class Emitter {
 public:
  explicit Emitter(size_t classic) : start_(classic + 1) {}
  void emit(bpf_insn i) { out_.push_back(i); }
  // A jump (of this code, registers, immediate) to a classic instruction or a label.
  void jump(uint8_t code, uint8_t dst, uint8_t src, int32_t imm, size_t target) {
    if (target == kFail) fails_ = true;
    fixes_.push_back({out_.size(), target});
    emit(ins(code, dst, src, 0, imm));
  }
  void mark_classic(size_t i) { start_[i] = out_.size(); }
  void mark(Label l) { labels_[l - kFail] = out_.size(); }
  void ld_map_fd(uint8_t dst, int fd) {
    emit(ins(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd));
    emit(ins(0, 0, 0, 0, 0));
  }
  // Whether anything jumps to kFail: the verifier refuses code nothing reaches.
  bool fails() const { return fails_; }
  std::vector<bpf_insn> finish() {
    for (const Fix& f : fixes_) {
      size_t to = f.target >= kFail ? labels_[f.target - kFail] : start_[f.target];
      out_[f.at].off = int16_t(int64_t(to) - int64_t(f.at) - 1);
    }
    return std::move(out_);
  }

 private:
  struct Fix {
    size_t at, target;
  };
  std::vector<bpf_insn> out_;
  std::vector<size_t> start_;
  size_t labels_[5] = {};
  bool fails_ = false;
  std::vector<Fix> fixes_;
};

int size_bytes(uint16_t code) { return BPF_SIZE(code) == BPF_W ? 4 : BPF_SIZE(code) == BPF_H ? 2 : 1; }

// Loads `bytes` at (r_offset pointer) into dst after checking them against the frame's end.
void checked_load(Emitter& e, uint8_t ptr, int bytes, uint8_t dst) {
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, kT2, ptr, 0, 0));
  e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_K, kT2, 0, 0, bytes));
  e.jump(BPF_JMP | BPF_JGT | BPF_X, kT2, kEnd, 0, kFail);
  uint8_t size = bytes == 4 ? BPF_W : bytes == 2 ? BPF_H : BPF_B;
  e.emit(ins(BPF_LDX | size | BPF_MEM, dst, ptr, 0, 0));
  if (bytes > 1) e.emit(ins(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bytes * 8));
}

// A jump to fail that the kernel's CFG check does not take for unconditional (what follows
// stays reachable): the context pointer is never null.
void always_fail(Emitter& e) { e.jump(BPF_JMP | BPF_JNE | BPF_K, kCtx, 0, 0, kFail); }

// r2 = frame + k (a constant offset), or a jump to fail when `bytes` there are past any frame
// (the verifier wants offset + size within 0xffff).
bool absolute_pointer(Emitter& e, uint32_t k, int bytes) {
  if (uint64_t(k) + uint64_t(bytes) > 0xffff) {
    always_fail(e);
    return false;
  }
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, kT1, kData, 0, 0));
  e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_K, kT1, 0, 0, int32_t(k)));
  return true;
}

void length(Emitter& e, bool into_x) {
  if (into_x) e.emit(ins(BPF_STX | BPF_DW | BPF_MEM, kFp, kA, kSaveA, 0));
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, 1, kCtx, 0, 0));
  e.emit(ins(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_xdp_get_buff_len));
  if (into_x) {
    e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kX, kA, 0, 0));
    e.emit(ins(BPF_LDX | BPF_DW | BPF_MEM, kA, kFp, kSaveA, 0));
  }
}

void translate_one(Emitter& e, const sock_filter& f, size_t i) {
  const uint16_t code = f.code;
  const int16_t mem = int16_t(kMem + 4 * int(f.k & 15));
  switch (BPF_CLASS(code)) {
    case BPF_LD:
    case BPF_LDX: {
      bool x = BPF_CLASS(code) == BPF_LDX;
      uint8_t dst = x ? kX : kA;
      switch (BPF_MODE(code)) {
        case BPF_IMM:
          e.emit(ins(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, int32_t(f.k)));
          break;
        case BPF_MEM:
          e.emit(ins(BPF_LDX | BPF_W | BPF_MEM, dst, kFp, mem, 0));
          break;
        case BPF_LEN:
          length(e, x);
          break;
        case BPF_ABS:
          if (absolute_pointer(e, f.k, size_bytes(code))) checked_load(e, kT1, size_bytes(code), kA);
          break;
        case BPF_IND: {
          // offset = X + k, without wrapping (libpcap rejects an overflow too), bounded so that
          // offset + size stays within what the verifier takes for a packet offset.
          const int bytes = size_bytes(code);
          if (uint64_t(f.k) + uint64_t(bytes) > 0xffff) {
            always_fail(e);
            break;
          }
          e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kT1, kX, 0, 0));  // zero-extended
          e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_K, kT1, 0, 0, int32_t(f.k)));
          e.jump(BPF_JMP | BPF_JGT | BPF_K, kT1, 0, 0xffff - bytes, kFail);
          e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_X, kT1, kData, 0, 0));
          checked_load(e, kT1, bytes, kA);
          break;
        }
        case BPF_MSH:  // X = 4 * (P[k] & 0xf): an IPv4 header's length
          if (absolute_pointer(e, f.k, 1)) {
            checked_load(e, kT1, 1, kT1);
            e.emit(ins(BPF_ALU | BPF_AND | BPF_K, kT1, 0, 0, 0xf));
            e.emit(ins(BPF_ALU | BPF_LSH | BPF_K, kT1, 0, 0, 2));
            e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kX, kT1, 0, 0));
          }
          break;
      }
      break;
    }
    case BPF_ST:
    case BPF_STX:
      e.emit(ins(BPF_STX | BPF_W | BPF_MEM, kFp, BPF_CLASS(code) == BPF_ST ? kA : kX, mem, 0));
      break;
    case BPF_ALU: {
      uint8_t op = BPF_OP(code);
      if (op == BPF_NEG) {
        e.emit(ins(BPF_ALU | BPF_NEG, kA, 0, 0, 0));
        break;
      }
      bool by_x = BPF_SRC(code) == BPF_X;
      if (op == BPF_DIV || op == BPF_MOD) {  // by zero: classic BPF rejects the packet
        if (by_x)
          e.jump(BPF_JMP | BPF_JEQ | BPF_K, kX, 0, 0, kFail);
        else if (f.k == 0)
          always_fail(e);
      }
      e.emit(ins(uint8_t(BPF_ALU | op | (by_x ? BPF_X : BPF_K)), kA, by_x ? kX : 0, 0, by_x ? 0 : int32_t(f.k)));
      break;
    }
    case BPF_JMP: {
      if (BPF_OP(code) == BPF_JA) {
        e.jump(BPF_JMP | BPF_JA, 0, 0, 0, i + 1 + f.k);
        break;
      }
      bool by_x = BPF_SRC(code) == BPF_X;
      e.jump(uint8_t(BPF_JMP32 | BPF_OP(code) | (by_x ? BPF_X : BPF_K)), kA, by_x ? kX : 0,
             by_x ? 0 : int32_t(f.k), i + 1 + f.jt);
      e.jump(BPF_JMP | BPF_JA, 0, 0, 0, i + 1 + f.jf);
      break;
    }
    case BPF_RET:
      if (BPF_RVAL(code) == BPF_A)
        e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kX, kA, 0, 0));
      else
        e.emit(ins(BPF_ALU | BPF_MOV | BPF_K, kX, 0, 0, f.k != 0 ? 1 : 0));
      e.jump(BPF_JMP | BPF_JA, 0, 0, 0, kTail);
      break;
    case BPF_MISC:
      if (BPF_MISCOP(code) == BPF_TAX)
        e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kX, kA, 0, 0));
      else
        e.emit(ins(BPF_ALU | BPF_MOV | BPF_X, kA, kX, 0, 0));
      break;
  }
}

}  // namespace

std::string check_classic(const std::vector<sock_filter>& p) {
  if (p.empty()) return "the expression compiled to an empty program";
  if (p.size() > kMaxClassicInstructions)
    return fmt::format("the expression compiles to {} classic BPF instructions, at most {}", p.size(),
                       kMaxClassicInstructions);
  for (size_t i = 0; i < p.size(); i++) {
    const sock_filter& f = p[i];
    uint16_t cls = BPF_CLASS(f.code), mode = BPF_MODE(f.code);
    if ((cls == BPF_LD || cls == BPF_LDX) && (mode == BPF_ABS || mode == BPF_IND || mode == BPF_MSH) &&
        f.k >= 0xffe00000u)
      return "the expression uses Linux ancillary data (a socket filter extension), which XDP does not have";
    if (cls == BPF_LD && mode != BPF_IMM && mode != BPF_MEM && mode != BPF_LEN && mode != BPF_ABS &&
        mode != BPF_IND)
      return fmt::format("classic instruction {} (code 0x{:x}) is not supported", i, f.code);
    if (cls == BPF_LDX && mode != BPF_IMM && mode != BPF_MEM && mode != BPF_LEN && mode != BPF_MSH)
      return fmt::format("classic instruction {} (code 0x{:x}) is not supported", i, f.code);
    if (cls == BPF_JMP) {
      uint64_t far = BPF_OP(f.code) == BPF_JA ? uint64_t(f.k) : std::max<uint64_t>(f.jt, f.jf);
      if (BPF_OP(f.code) == BPF_JA && f.k >= 0x80000000u)
        return "the expression compiles to a loop (a backward jump, as protochain does), which classic BPF in the "
               "kernel does not run; match IPv6 protocols with protocol:, which follows extension headers";
      if (i + 1 + far >= p.size()) return fmt::format("classic instruction {} jumps out of the program", i);
    }
  }
  if (BPF_CLASS(p.back().code) != BPF_RET) return "the classic program does not end with a return";
  return "";
}

std::vector<bpf_insn> translate_classic(const std::vector<sock_filter>& program, const ClassicTail& tail) {
  Emitter e(program.size());
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, kCtx, 1, 0, 0));
  e.emit(ins(BPF_LDX | BPF_W | BPF_MEM, kData, kCtx, 0, 0));  // xdp_md.data
  e.emit(ins(BPF_LDX | BPF_W | BPF_MEM, kEnd, kCtx, 4, 0));   // xdp_md.data_end
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, kA, 0, 0, 0));
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, kX, 0, 0, 0));
  for (int k = 0; k < 16; k++) e.emit(ins(BPF_ST | BPF_W | BPF_MEM, kFp, 0, int16_t(kMem + 4 * k), 0));
  for (size_t i = 0; i < program.size(); i++) {
    e.mark_classic(i);
    translate_one(e, program[i], i);
  }
  e.mark_classic(program.size());
  // A load past the frame, or a division by zero: rejected.
  if (e.fails()) {
    e.mark(kFail);
    e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, kX, 0, 0, 0));
  }
  // The verdict into the state's bits, then the next program of the chain.
  e.mark(kTail);
  e.emit(ins(BPF_ST | BPF_W | BPF_MEM, kFp, 0, kKey, 0));
  e.ld_map_fd(1, tail.state_map_fd);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, 2, kFp, 0, 0));
  e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, kKey));
  e.emit(ins(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  e.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, kOut);
  e.jump(BPF_JMP | BPF_JEQ | BPF_K, kX, 0, 0, kNext);
  e.emit(ins(BPF_LDX | BPF_W | BPF_MEM, 1, 0, 0, 0));
  e.emit(ins(BPF_ALU | BPF_OR | BPF_K, 1, 0, 0, int32_t(1u << (tail.bit & 31))));
  e.emit(ins(BPF_STX | BPF_W | BPF_MEM, 0, 1, 0, 0));
  e.mark(kNext);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, 1, kCtx, 0, 0));
  e.ld_map_fd(2, tail.prog_array_fd);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, int32_t(tail.next)));
  e.emit(ins(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call));
  // Only when the tail call failed (the chain is being torn down): counted, and let through.
  e.mark(kOut);
  e.emit(ins(BPF_ST | BPF_W | BPF_MEM, kFp, 0, kKey, int32_t(tail.broken_slot)));
  e.ld_map_fd(1, tail.counters_fd);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_X, 2, kFp, 0, 0));
  e.emit(ins(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, kKey));
  e.emit(ins(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  e.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0, kPass);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1));
  e.emit(ins(BPF_STX | BPF_DW | BPF_ATOMIC, 0, 1, 0, BPF_ADD));  // packets += 1
  e.mark(kPass);
  e.emit(ins(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2));  // XDP_PASS
  e.emit(ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return e.finish();
}

}  // namespace waggle
