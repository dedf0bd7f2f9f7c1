#define _GNU_SOURCE 1
#include "CPPlus2Shims.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

int cpplus2_rename_noreplace(int dirfd, const char *from, const char *to) {
    return renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE);
}

int cpplus2_rename_noreplace_into(int fromdir, const char *from, int todir, const char *to) {
    return renameat2(fromdir, from, todir, to, RENAME_NOREPLACE);
}

int cpplus2_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cpplus2_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int cpplus2_epoll_control(int epfd, int op, int fd, unsigned int events, unsigned long long token) {
    struct epoll_event event = {0};
    if (events & 1) event.events |= EPOLLIN | EPOLLRDHUP;
    if (events & 2) event.events |= EPOLLOUT;
    event.data.u64 = token;
    int operation = op == 0 ? EPOLL_CTL_ADD : op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    return epoll_ctl(epfd, operation, fd, &event);
}

int cpplus2_epoll_wait(int epfd, unsigned long long *tokens, unsigned int *events, int max, int milliseconds) {
    struct epoll_event ready[256];
    if (max > 256) max = 256;
    int count = epoll_wait(epfd, ready, max, milliseconds);
    for (int index = 0; index < count; index++) {
        unsigned int bits = 0;
        if (ready[index].events & (EPOLLIN | EPOLLRDHUP)) bits |= 1;
        if (ready[index].events & EPOLLOUT) bits |= 2;
        if (ready[index].events & (EPOLLERR | EPOLLHUP)) bits |= 4;
        tokens[index] = ready[index].data.u64;
        events[index] = bits;
    }
    return count;
}

int cpplus2_pipe_nonblocking(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

void cpplus2_name_this_thread(const char *name) {
    char shortName[16];
    strncpy(shortName, name, sizeof shortName - 1);
    shortName[sizeof shortName - 1] = '\0';
    pthread_setname_np(pthread_self(), shortName);
}

long cpplus2_splice(int in, int out, unsigned long len, int nonblocking) {
    return splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | (nonblocking ? SPLICE_F_NONBLOCK : 0));
}

long cpplus2_splice_at(int in, int out, long long *offset, unsigned long len) {
    loff_t position = *offset;
    long moved = splice(in, NULL, out, &position, len, SPLICE_F_MOVE);
    *offset = position;
    return moved;
}

int cpplus2_set_pipe_size(int fd, int size) {
    return fcntl(fd, F_SETPIPE_SZ, size);
}

int cpplus2_set_this_thread_niceness(int niceness) {
    return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness);
}

int cpplus2_unsent_bytes(int fd) {
    int unsent = 0;
    return ioctl(fd, SIOCOUTQ, &unsent) == 0 ? unsent : -1;
}

int cpplus2_sync_file_range(int fd, long long offset, long long count, int wait) {
    unsigned int flags = SYNC_FILE_RANGE_WRITE;
    if (wait) flags |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
    return sync_file_range(fd, offset, count, flags);
}

static struct termios saved_mode;
static volatile sig_atomic_t saved_fd = -1;
static struct sigaction previous_actions[NSIG];
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};

/* Runs with the signal unblocked (SA_NODEFER): the previous handler (the Swift
 * runtime's backtracer) runs at once from raise(); if it returns, the default
 * action ends the process, as a crash must. */
static void restore_then_crash(int signal_number) {
    if (saved_fd >= 0) tcsetattr(saved_fd, TCSANOW, &saved_mode);  /* async-signal-safe */
    sigaction(signal_number, &previous_actions[signal_number], NULL);
    raise(signal_number);
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

int cpplus2_terminal_raw(int fd) {
    struct termios mode;
    if (tcgetattr(fd, &mode) != 0) return -1;
    saved_mode = mode;
    saved_fd = fd;
    for (unsigned i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = restore_then_crash;
        action.sa_flags = SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(crash_signals[i], &action, &previous_actions[crash_signals[i]]);
    }
    mode.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
    mode.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR | ISTRIP);
    mode.c_cc[VMIN] = 1;
    mode.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSADRAIN, &mode);
}

void cpplus2_terminal_restore(void) {
    int fd = saved_fd;
    if (fd < 0) return;
    saved_fd = -1;
    tcsetattr(fd, TCSADRAIN, &saved_mode);
    for (unsigned i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        sigaction(crash_signals[i], &previous_actions[crash_signals[i]], NULL);
    }
}

int cpplus2_terminal_width(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

int cpplus2_malloc_map_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
