// GNU extensions that Swift's Glibc module does not export, because they need
// _GNU_SOURCE. The header declares plain prototypes (no system includes, so it
// cannot clash with the Glibc module); shims.c defines them. No logic lives here.
#ifndef CPPLUS2_SHIMS_H
#define CPPLUS2_SHIMS_H

/// renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE): fails with EEXIST instead of replacing.
int cpplus2_rename_noreplace(int dirfd, const char *from, const char *to);

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC).
int cpplus2_accept_nonblocking(int fd);

/// pipe2(fds, O_NONBLOCK | O_CLOEXEC).
int cpplus2_pipe_nonblocking(int fds[2]);

/// pthread_setname_np(pthread_self(), name): names the calling thread (15 bytes kept).
void cpplus2_name_this_thread(const char *name);

/// splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | (nonblocking ? SPLICE_F_NONBLOCK : 0)).
long cpplus2_splice(int in, int out, unsigned long len, int nonblocking);

/// fcntl(fd, F_SETPIPE_SZ, size): returns the new capacity or -1.
int cpplus2_set_pipe_size(int fd, int size);

/// memmem(haystack, haystackLength, needle, needleLength): glibc's vectorised substring search.
const void *cpplus2_memmem(const void *haystack, unsigned long haystackLength, const void *needle,
                           unsigned long needleLength);

#endif
