/* robust_mcclient.c — a small memcached client: a short, bounded load on a server under test.
 *
 * robust_mcclient PORT N [CONNS]
 *     Connects CONNS (default 4) times to 127.0.0.1:PORT (retrying for up to 10 s while the
 *     server starts), and on each connection, from its own thread, runs N / CONNS rounds of
 *     "set" then "get" of a distinct key (text protocol). Prints one deterministic line: how
 *     many sets were STORED, how many gets returned the value just set, and a checksum.
 *     Exit status 0 when every round succeeded, 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static unsigned long rounds;

struct result {
    unsigned id;
    unsigned long stored, hits, sum;
    int failed;
};

static int connect_retry(void)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        close(fd);
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Reads until buf ends with the terminator (or the buffer is full). */
static int read_until(int fd, char *buf, size_t cap, const char *term)
{
    size_t len = 0, tl = strlen(term);
    while (len + 1 < cap) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r <= 0)
            return 0;
        len += (size_t)r;
        buf[len] = '\0';
        if (len >= tl && !memcmp(buf + len - tl, term, tl))
            return 1;
    }
    return 0;
}

static void *client(void *arg)
{
    struct result *r = arg;
    int fd = connect_retry();
    if (fd < 0) {
        r->failed = 1;
        return NULL;
    }
    char req[256], value[64], resp[512];
    for (unsigned long i = 0; i < rounds; i++) {
        int vlen = snprintf(value, sizeof value, "value-%u-%lu-%lu", r->id, i, i * 2654435761ul % 1000);
        int n = snprintf(req, sizeof req, "set k%u_%lu 0 0 %d\r\n%s\r\n", r->id, i, vlen, value);
        if (!send_all(fd, req, (size_t)n) || !read_until(fd, resp, sizeof resp, "\r\n")) {
            r->failed = 1;
            break;
        }
        r->stored += !strcmp(resp, "STORED\r\n");
        n = snprintf(req, sizeof req, "get k%u_%lu\r\n", r->id, i);
        if (!send_all(fd, req, (size_t)n) || !read_until(fd, resp, sizeof resp, "END\r\n")) {
            r->failed = 1;
            break;
        }
        if (strstr(resp, value)) {
            r->hits++;
            for (const char *c = value; *c; c++)
                r->sum = r->sum * 31 + (unsigned char)*c;
        }
    }
    send_all(fd, "quit\r\n", 6);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: robust_mcclient PORT N [CONNS]\n");
        return 2;
    }
    port = atoi(argv[1]);
    unsigned long n = strtoul(argv[2], NULL, 10);
    unsigned conns = argc > 3 ? (unsigned)atoi(argv[3]) : 4;
    if (conns < 1 || conns > 64)
        conns = 4;
    rounds = n / conns;
    pthread_t th[64];
    struct result res[64];
    memset(res, 0, sizeof res);
    for (unsigned c = 0; c < conns; c++) {
        res[c].id = c;
        pthread_create(&th[c], NULL, client, &res[c]);
    }
    unsigned long stored = 0, hits = 0, sum = 0;
    int failed = 0;
    for (unsigned c = 0; c < conns; c++) {
        pthread_join(th[c], NULL);
        stored += res[c].stored;
        hits += res[c].hits;
        sum ^= res[c].sum;
        failed |= res[c].failed;
    }
    printf("mcclient: rounds=%lu stored=%lu hits=%lu checksum=%lx%s\n", rounds * conns, stored, hits,
           sum, failed ? " FAILED" : "");
    return failed || stored != rounds * conns || hits != rounds * conns;
}
