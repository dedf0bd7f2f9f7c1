/* A crowd of raw downloads at once: COUNT connections to 127.0.0.1:PORT, from
 * ADDRESSES source addresses (127.0.1.1, 127.0.1.2, ...), each sending LINE and
 * reading the answer to its end into nowhere, all on one epoll loop. Prints
 * "COMPLETE BYTES SECONDS MAXFIRSTBYTE EMPTY": how many ended cleanly with
 * EXPECTED bytes, the bytes in all, the wall time, the slowest first byte,
 * and how many were closed without a byte.
 *
 *   crowd_client PORT LINE COUNT ADDRESSES EXPECTED */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

struct conn { int fd; long long bytes; double first; int done; };

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: crowd_client PORT LINE COUNT ADDRESSES EXPECTED\n"); return 2; }
    int port = atoi(argv[1]), count = atoi(argv[3]), addresses = atoi(argv[4]);
    long long expected = atoll(argv[5]);
    char line[4200];
    snprintf(line, sizeof line, "%s\n", argv[2]);
    struct conn *conns = calloc(count, sizeof *conns);
    int ep = epoll_create1(0);
    double start = now();
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000101 + i % addresses)};
        bind(fd, (struct sockaddr *)&src, sizeof src);
        struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7F000001)};
        if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) { perror("connect"); return 1; }
        if (write(fd, line, strlen(line)) < 0) { perror("write"); return 1; }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
    }
    static char buffer[1 << 20];
    int open = count;
    struct epoll_event ready[256];
    while (open > 0) {
        int n = epoll_wait(ep, ready, 256, 30000);
        if (n <= 0) break;
        for (int k = 0; k < n; k++) {
            struct conn *c = &conns[ready[k].data.u32];
            for (;;) {
                ssize_t got = read(c->fd, buffer, sizeof buffer);
                if (got > 0) {
                    if (c->bytes == 0) c->first = now() - start;
                    c->bytes += got;
                    continue;
                }
                if (got < 0 && errno == EAGAIN) break;
                c->done = got == 0 ? 1 : -1;  /* clean end, or a reset */
                close(c->fd);
                open--;
                break;
            }
        }
    }
    int complete = 0, empty = 0;
    long long total = 0;
    double slowest = 0;
    for (int i = 0; i < count; i++) {
        total += conns[i].bytes;
        if (conns[i].done == 1 && conns[i].bytes == expected) complete++;
        if (conns[i].bytes == 0) empty++;
        if (conns[i].first > slowest) slowest = conns[i].first;
    }
    printf("%d %lld %.3f %.3f %d\n", complete, total, now() - start, slowest, empty);
    return 0;
}
