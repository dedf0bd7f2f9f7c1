/* The limit for a verified, durable download on this machine, in plain C:
 * what pplus2 does, without anything else. Connects to 127.0.0.1:PORT (the
 * sendfile server with --no-request), splice(2)s the stream into FILE through
 * a 1 MiB pipe, starts the write-back every 8 MiB (sync_file_range, waiting
 * for the step two back), while a second thread reads the file back behind
 * the writer and hashes it with the SHA extensions (the shim's block
 * function); at the end it fsyncs the file and prints its SHA-256 in hex.
 *
 *   verified_sink PORT FILE
 *
 * Built by scripts/bench with Sources/CPPlus2Shims/sha256.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void cpplus2_sha256_blocks_hardware(unsigned int state[8], const void *data, unsigned long blocks);

enum { chunk = 1 << 20 };
static const long long step = 8 << 20;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t moved = PTHREAD_COND_INITIALIZER;
static long long written;  // guarded by lock
static int finished;       // guarded by lock
static int file;
static unsigned int state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
static unsigned char tail[128];  // the bytes after the last whole block, then the padding
static long long hashed;

static void *follow(void *unused) {
    (void)unused;
    static unsigned char buffer[chunk];
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!finished && written - hashed < chunk) pthread_cond_wait(&moved, &lock);
        long long target = written;
        int done = finished;
        pthread_mutex_unlock(&lock);
        while (target - hashed >= 64) {
            long long wanted = target - hashed < chunk ? target - hashed : chunk;
            wanted -= wanted % 64;
            ssize_t count = pread(file, buffer, wanted, hashed);
            if (count != wanted) { perror("pread"); exit(1); }
            cpplus2_sha256_blocks_hardware(state, buffer, wanted / 64);
            hashed += wanted;
        }
        if (done) return NULL;
    }
}

static void finish_hash(long long size) {
    long long rest = size - hashed;
    if (pread(file, tail, rest, hashed) != rest) { perror("pread"); exit(1); }
    tail[rest] = 0x80;
    long length = rest < 56 ? 64 : 128;
    memset(tail + rest + 1, 0, length - rest - 1);
    uint64_t bits = (uint64_t)size * 8;
    for (int index = 0; index < 8; index++) tail[length - 1 - index] = (unsigned char)(bits >> (8 * index));
    cpplus2_sha256_blocks_hardware(state, tail, length / 64);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s PORT FILE\n", argv[0]); return 2; }
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&address, sizeof address)) { perror("connect"); return 1; }
    file = open(argv[2], O_RDWR | O_CREAT | O_EXCL, 0644);
    if (file < 0) { perror("open"); return 1; }
    int pipe_ends[2];
    if (pipe(pipe_ends)) { perror("pipe"); return 1; }
    fcntl(pipe_ends[1], F_SETPIPE_SZ, chunk);
    pthread_t follower;
    pthread_create(&follower, NULL, follow, NULL);
    long long total = 0, handed = 0;
    for (;;) {
        ssize_t arrived = splice(sock, NULL, pipe_ends[1], NULL, chunk, SPLICE_F_MOVE);
        if (arrived < 0) { perror("splice"); return 1; }
        if (arrived == 0) break;
        while (arrived > 0) {
            ssize_t count = splice(pipe_ends[0], NULL, file, NULL, arrived, SPLICE_F_MOVE);
            if (count <= 0) { perror("splice"); return 1; }
            arrived -= count;
            total += count;
        }
        for (; total - handed >= step; handed += step) {
            sync_file_range(file, handed, step, SYNC_FILE_RANGE_WRITE);
            if (handed >= 2 * step)
                sync_file_range(file, handed - 2 * step, step,
                                SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        }
        pthread_mutex_lock(&lock);
        written = total;
        pthread_cond_signal(&moved);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    finished = 1;
    pthread_cond_signal(&moved);
    pthread_mutex_unlock(&lock);
    pthread_join(follower, NULL);
    finish_hash(total);
    if (fsync(file)) { perror("fsync"); return 1; }
    for (int index = 0; index < 8; index++) printf("%08x", state[index]);
    printf("\n");
    return 0;
}
