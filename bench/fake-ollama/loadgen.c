/*
 * loadgen: a small keep-alive HTTP/1.1 load generator, to measure fake-ollama's own
 * ceiling.  C threads, one connection each, one request in flight per connection.
 *
 *   loadgen --port P [--host 127.0.0.1] [--concurrency C] [--seconds S]
 *           [--model bench-1] [--stream 1|0] [--get /api/version]
 *
 * Sends POST /api/chat {"model":M,"messages":[{"role":"user","content":"load-T-N"}],"stream":B}
 * (or GET PATH with --get), reads each full reply (Content-Length or chunked) and
 * prints one JSON line: {"concurrency","seconds","requests","rps","p50_us","p99_us","errors"}.
 *
 * Build: gcc -O2 -Wall -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1";
static int port = 0, conc = 1, stream = 1;
static double seconds = 2.0;
static const char *model = "bench-1";
static const char *get_path = NULL;
static double t_end;

typedef struct {
    int id;
    long requests, errors;
    uint32_t *lat; /* microseconds */
    size_t nlat, caplat;
} worker_t;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* read one full response; buf is a reusable buffer; returns 0 ok, -1 error */
typedef struct { char *p; size_t len, cap; } rbuf_t;
static int fill(int fd, rbuf_t *b) {
    if (b->cap - b->len < 65536) {
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
        b->p = realloc(b->p, b->cap);
    }
    ssize_t r = read(fd, b->p + b->len, b->cap - b->len);
    if (r <= 0) return -1;
    b->len += (size_t)r;
    return 0;
}

static int read_response(int fd, rbuf_t *b) {
    char *he;
    while (!(he = memmem(b->p, b->len, "\r\n\r\n", 4)))
        if (fill(fd, b) < 0) return -1;
    size_t hlen = (size_t)(he - b->p) + 4;
    int chunked = 0;
    long clen = -1;
    int status = atoi(b->p + 9);
    for (char *h = memmem(b->p, hlen, "\r\n", 2) + 2; h < he;) {
        char *e = memmem(h, (size_t)(he + 2 - h), "\r\n", 2);
        if (!strncasecmp(h, "content-length:", 15)) clen = atol(h + 15);
        if (!strncasecmp(h, "transfer-encoding:", 18) && memmem(h, (size_t)(e - h), "chunked", 7)) chunked = 1;
        h = e + 2;
    }
    size_t pos = hlen;
    if (chunked) {
        for (;;) {
            char *crlf;
            while (!(crlf = memmem(b->p + pos, b->len - pos, "\r\n", 2)))
                if (fill(fd, b) < 0) return -1;
            unsigned long sz = strtoul(b->p + pos, NULL, 16);
            pos = (size_t)(crlf - b->p) + 2;
            while (b->len < pos + sz + 2)
                if (fill(fd, b) < 0) return -1;
            pos += sz + 2;
            if (sz == 0) break;
            if (pos > (8u << 20)) { /* keep memory bounded on big replies */
                memmove(b->p, b->p + pos, b->len - pos);
                b->len -= pos;
                pos = 0;
            }
        }
    } else {
        if (clen < 0) clen = 0;
        while (b->len < pos + (size_t)clen)
            if (fill(fd, b) < 0) return -1;
        pos += (size_t)clen;
    }
    memmove(b->p, b->p + pos, b->len - pos);
    b->len -= pos;
    return status == 200 ? 0 : 1;
}

static void *run(void *arg) {
    worker_t *w = arg;
    int fd = connect_to();
    if (fd < 0) { w->errors++; return NULL; }
    rbuf_t b = {0};
    char req[1024];
    for (long n = 0; mono() < t_end; n++) {
        int len;
        if (get_path) {
            len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", get_path, host, port);
        } else {
            char body[512];
            int bl = snprintf(body, sizeof body,
                              "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"load-%d-%06ld\"}],\"stream\":%s}", model,
                              w->id, n, stream ? "true" : "false");
            len = snprintf(req, sizeof req,
                           "POST /api/chat HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host,
                           port, bl, body);
        }
        double t0 = mono();
        if (write(fd, req, (size_t)len) != len) { w->errors++; break; }
        int r = read_response(fd, &b);
        if (r < 0) { w->errors++; break; }
        if (r > 0) w->errors++;
        w->requests++;
        if (w->nlat == w->caplat) {
            w->caplat = w->caplat ? w->caplat * 2 : 65536;
            w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
        }
        w->lat[w->nlat++] = (uint32_t)((mono() - t0) * 1e6);
    }
    close(fd);
    free(b.p);
    return NULL;
}

static int cmpu(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc) conc = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--stream") && i + 1 < argc) stream = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--get") && i + 1 < argc) get_path = argv[++i];
        else { fprintf(stderr, "usage: loadgen --port P [--concurrency C] [--seconds S] [--model M] [--stream 1|0] [--get PATH]\n"); return 2; }
    }
    struct in_addr ia;
    if (port <= 0 || conc < 1 || conc > 256 || inet_pton(AF_INET, host, &ia) != 1 || (ntohl(ia.s_addr) >> 24) != 127) {
        fprintf(stderr, "loadgen: needs --port, 1..256 connections, a 127.x.x.x host\n");
        return 2;
    }
    pthread_t th[256];
    worker_t ws[256];
    memset(ws, 0, sizeof ws);
    double t0 = mono();
    t_end = t0 + seconds;
    for (int i = 0; i < conc; i++) { ws[i].id = i; pthread_create(&th[i], NULL, run, &ws[i]); }
    long reqs = 0, errs = 0;
    size_t nl = 0;
    for (int i = 0; i < conc; i++) { pthread_join(th[i], NULL); reqs += ws[i].requests; errs += ws[i].errors; nl += ws[i].nlat; }
    double el = mono() - t0;
    uint32_t *all = malloc((nl + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < conc; i++) { memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all); k += ws[i].nlat; }
    qsort(all, nl, sizeof *all, cmpu);
    uint32_t p50 = nl ? all[nl / 2] : 0, p99 = nl ? all[(size_t)(nl * 0.99)] : 0;
    printf("{\"concurrency\":%d,\"seconds\":%.3f,\"requests\":%ld,\"rps\":%.1f,\"p50_us\":%u,\"p99_us\":%u,\"errors\":%ld}\n", conc, el, reqs,
           reqs / el, p50, p99, errs);
    return errs ? 1 : 0;
}
