/* Paths of open-family calls: the path as the process gave it and, when relative, the
 * absolute path it names, both read in the kernel. Shared by the file sensor and the file
 * policy programs. */
#ifndef WAGGLE_OPEN_PATHS_BPF_H
#define WAGGLE_OPEN_PATHS_BPF_H

#include "common.bpf.h"

#define AT_FDCWD -100
#define RESOLVED_CAP (2 * WG_PATH_MAX)

/* An LPM key with room for a whole path: the maps read only its first
 * sizeof(struct wg_path_key) bytes, so a path read here is a key as it is. */
struct wide_key {
  u32 prefixlen;
  char data[RESOLVED_CAP];
};

struct paths {
  u32 given_len;
  u32 resolved_len; /* 0 when the given path is absolute */
  u16 flags;        /* WG_F_PATH_TRUNC, WG_F_RESOLVED_TRUNC */
};

/* Reads the path as given into given (WG_PATH_MAX bytes) and, when it is relative, writes
 * the absolute path it names into resolved (RESOLVED_CAP bytes): the directory it is
 * relative to (dfd or the cwd), '/', the path as given. Both NUL-terminated. Returns false
 * when the path cannot be read. */
static __always_inline bool read_paths(u64 filename, s32 dfd, char *given, char *resolved, struct paths *out) {
  out->resolved_len = 0;
  out->flags = 0;
  long n = bpf_probe_read_user_str(given, WG_PATH_MAX, (const void *)filename);
  if (n <= 0) return false;
  out->given_len = n - 1;
  if (out->given_len >= WG_PATH_MAX - 1) out->flags |= WG_F_PATH_TRUNC;
  if (given[0] == '/') return true;

  struct task_struct *task = (void *)bpf_get_current_task();
  struct vfsmount *mnt;
  struct dentry *dentry;
  if (dfd == AT_FDCWD) {
    mnt = BPF_CORE_READ(task, fs, pwd.mnt);
    dentry = BPF_CORE_READ(task, fs, pwd.dentry);
  } else {
    struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
    if (dfd < 0 || (u32)dfd >= BPF_CORE_READ(fdt, max_fds)) return true; /* EBADF: nothing to resolve */
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *dir = NULL;
    bpf_probe_read_kernel(&dir, sizeof(dir), &fds[dfd]);
    if (!dir) return true;
    mnt = BPF_CORE_READ(dir, f_path.mnt);
    dentry = BPF_CORE_READ(dir, f_path.dentry);
  }
  bool truncated = false;
  u32 off = wg_write_path(mnt, dentry, BPF_CORE_READ(task, fs, root.mnt),
                          BPF_CORE_READ(task, fs, root.dentry), resolved, &truncated);
  if (off > 1) {
    if (off + 1 >= WG_PATH_MAX) { /* no room for '/' and a name: report the directory alone */
      out->flags |= WG_F_RESOLVED_TRUNC;
      out->resolved_len = off;
      return true;
    }
    resolved[off++ & (WG_PATH_MAX - 1)] = '/';
  }
  /* Append the given path by reading it again: cheaper for the verifier than a copy loop.
   * The barrier keeps clang from dropping the mask that the verifier needs as a bound. */
  barrier_var(off);
  long m = bpf_probe_read_user_str(&resolved[off & (WG_PATH_MAX - 1)], WG_PATH_MAX, (const void *)filename);
  if (m <= 0) return true;
  if (truncated || m >= WG_PATH_MAX) out->flags |= WG_F_RESOLVED_TRUNC;
  out->resolved_len = off + m - 1;
  return true;
}

/* Fills `reversed` with the last WG_FILTER_SUFFIX_MAX bytes of key->data[0..len), reversed:
 * a suffix of the path is then a prefix of the key. */
static __always_inline void reverse_tail(const struct wide_key *key, u32 len, struct wg_path_key *reversed) {
  u32 n = len < WG_FILTER_SUFFIX_MAX ? len : WG_FILTER_SUFFIX_MAX;
  for (u32 i = 0; i < WG_FILTER_SUFFIX_MAX; i++) {
    if (i >= n) break;
    reversed->data[i] = key->data[(len - 1 - i) & (RESOLVED_CAP - 1)];
  }
  reversed->prefixlen = n * 8;
}

#endif
