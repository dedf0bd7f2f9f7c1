/* A raw socket client: connects to 127.0.0.1:PORT, sends LINE and a newline,
 * reads the whole answer into nowhere (like `> /dev/null`), and prints
 * "BYTES SECONDS". The reading is cheap (recv into one 1 MiB buffer), so the
 * figure measures the server.
 *
 *   sink_client PORT LINE */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s PORT LINE\n", argv[0]); return 2; }
    static char buffer[1 << 20];
    double started = now();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address)) { perror("connect"); return 1; }
    dprintf(fd, "%s\n", argv[2]);
    long long total = 0;
    for (;;) {
        ssize_t count = recv(fd, buffer, sizeof buffer, 0);
        if (count <= 0) break;
        total += count;
    }
    printf("%lld %.6f\n", total, now() - started);
    return 0;
}
