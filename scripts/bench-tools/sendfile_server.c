/* The physical limit for serving a file on this machine: a minimal TCP server
 * that reads one request line (unless --no-request), then sends one file with
 * sendfile(2) and closes. Serves connections one at a time, forever.
 *
 *   sendfile_server PORT FILE [--no-request]
 *
 * Prints "ready" on stdout once listening on 127.0.0.1:PORT. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s PORT FILE [--no-request]\n", argv[0]); return 2; }
    int readRequest = !(argc > 3 && strcmp(argv[3], "--no-request") == 0);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 64)) { perror("listen"); return 1; }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        if (readRequest) {
            char c;
            while (read(client, &c, 1) == 1 && c != '\n') {}
        }
        int file = open(argv[2], O_RDONLY);
        struct stat info;
        fstat(file, &info);
        off_t offset = 0;
        while (offset < info.st_size) {
            ssize_t sent = sendfile(client, file, &offset, info.st_size - offset);
            if (sent <= 0) break;
        }
        close(file);
        close(client);
    }
}
