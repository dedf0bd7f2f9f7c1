// GNU extensions that Swift's Glibc module does not export, because they need
// _GNU_SOURCE, and the SHA-256 block function with the CPU's SHA extensions.
// The header declares plain prototypes (no system includes, so it cannot clash
// with the Glibc module); shims.c and sha256.c define them.
#ifndef CPPLUS2_SHIMS_H
#define CPPLUS2_SHIMS_H

/// renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE): fails with EEXIST instead of replacing.
int cpplus2_rename_noreplace(int dirfd, const char *from, const char *to);
/// renameat2(fromdir, from, todir, to, RENAME_NOREPLACE): the same, from one folder into another.
int cpplus2_rename_noreplace_into(int fromdir, const char *from, int todir, const char *to);

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC).
int cpplus2_accept_nonblocking(int fd);

/// epoll_create1(EPOLL_CLOEXEC).
int cpplus2_epoll_create(void);

/// epoll_ctl(epfd, op, fd, {events, data.u64 = token}); op 0 add, 1 modify, 2 delete.
/// events: bit 0 readable (EPOLLIN | EPOLLRDHUP), bit 1 writable (EPOLLOUT).
int cpplus2_epoll_control(int epfd, int op, int fd, unsigned int events, unsigned long long token);

/// epoll_wait into two arrays (the kernel's struct is packed on x86-64, which
/// Swift does not import as such): each ready descriptor's token, and its
/// events as bits: 0 readable, 1 writable, 2 error or hang-up. Returns the
/// count, or -1 (errno set).
int cpplus2_epoll_wait(int epfd, unsigned long long *tokens, unsigned int *events, int max, int milliseconds);

/// pipe2(fds, O_NONBLOCK | O_CLOEXEC).
int cpplus2_pipe_nonblocking(int fds[2]);

/// pthread_setname_np(pthread_self(), name): names the calling thread (15 bytes kept).
void cpplus2_name_this_thread(const char *name);

/// setpriority(PRIO_PROCESS, gettid(), niceness): the calling thread's nice value only.
int cpplus2_set_this_thread_niceness(int niceness);

/// ioctl(fd, SIOCOUTQ): bytes written to a TCP socket that the other end has
/// not acknowledged yet; -1 on error.
int cpplus2_unsent_bytes(int fd);

/// splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | (nonblocking ? SPLICE_F_NONBLOCK : 0)).
long cpplus2_splice(int in, int out, unsigned long len, int nonblocking);

/// splice(in, NULL, out, offset, len, SPLICE_F_MOVE): into a file at *offset, which advances.
long cpplus2_splice_at(int in, int out, long long *offset, unsigned long len);

/// fcntl(fd, F_SETPIPE_SZ, size): returns the new capacity or -1.
int cpplus2_set_pipe_size(int fd, int size);

/// sync_file_range(fd, offset, count, flags), with flags: 0 starts the write-back
/// of the range (SYNC_FILE_RANGE_WRITE) without waiting; 1 also waits for it
/// (WAIT_BEFORE | WRITE | WAIT_AFTER).
int cpplus2_sync_file_range(int fd, long long offset, long long count, int wait);

/// mallopt(M_MMAP_THRESHOLD, bytes): allocations of `bytes` or more get a
/// mapping of their own, returned to the kernel when freed (malloc.h is not in
/// the Glibc module). 1 on success.
int cpplus2_malloc_map_threshold(int bytes);

/// Saves the terminal mode of `fd`, then sets raw mode (no line editing, no
/// echo, no signals from keys; output processing kept). Until
/// cpplus2_terminal_restore, a crash (SIGSEGV, SIGBUS, SIGILL, SIGTRAP,
/// SIGABRT, SIGFPE) restores the saved mode before the previous handler
/// runs. 0 on success, -1 if `fd` is not a terminal.
int cpplus2_terminal_raw(int fd);

/// Restores the mode saved by cpplus2_terminal_raw, once; safe to call again.
void cpplus2_terminal_restore(void);

/// The terminal's width in columns (TIOCGWINSZ); 0 if unknown.
int cpplus2_terminal_width(int fd);

/// The first occurrence of the needle in the haystack, or NULL (an empty
/// needle: the haystack): first and last bytes compared 32 or 16 positions at
/// a time, then memmem once candidates cost more than about twice the
/// haystack (find.c).
const void *cpplus2_find(const void *haystack, unsigned long haystackLength, const void *needle,
                         unsigned long needleLength);

/// cpplus2_find as a CPU without AVX2 runs it (16 positions at a time), for the tests.
const void *cpplus2_find_without_avx2(const void *haystack, unsigned long haystackLength, const void *needle,
                                      unsigned long needleLength);

/// 1 if this CPU has the x86 SHA extensions (and SSSE3, SSE4.1) that
/// cpplus2_sha256_blocks_hardware needs; 0 otherwise (and on other CPUs).
int cpplus2_sha256_hardware_available(void);

/// Compresses `blocks` 64-byte blocks of `data` into the SHA-256 `state` with
/// the SHA extensions. Call only where cpplus2_sha256_hardware_available() is 1.
void cpplus2_sha256_blocks_hardware(unsigned int state[8], const void *data, unsigned long blocks);

#endif
