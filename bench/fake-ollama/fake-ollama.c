/*
 * fake-ollama: a fast stand-in for Ollama's HTTP API, for benchmarking only.
 *
 * Single-threaded epoll server, HTTP/1.1 with keep-alive (and pipelining),
 * loopback only.  Endpoints:
 *
 *   GET  /                -> "Ollama is running"
 *   GET  /api/version     -> {"version":"0.12.0"}
 *   GET  /api/tags        -> the bench-* models
 *   POST /api/show        -> a minimal model description
 *   POST /api/chat        -> the reply; chunked NDJSON when "stream" is true or
 *                            absent, one JSON object when "stream": false
 *   POST /api/embed       -> {"model","embeddings":[[4 numbers] per input],...}
 *   GET  /api/ps          -> {"models":[]}; with the model-load flags, the loaded models
 *   GET  /fake/stats      -> JSON counters: requests, chat, embed, not_found, served,
 *                            cancelled, loads, evictions, max_active, per model
 *                            {loads, served, evictions, loaded} (?reset=1 zeroes them)
 *   GET  /_stats          -> one line per /api/chat request seen:
 *                            "<arrival CLOCK_REALTIME ns> <token> <model> <stream 0|1>"
 *                            (?reset=1 clears the list after answering)
 *   GET  /_reset          -> clears the list
 *
 * The reply is chosen by the model name:
 *   bench-<N>      N content chunks (bench-1 = one chunk)
 *   bench-n        --chunks N content chunks (default 16)
 *   bench-<X>k     an X KiB reply in --chunk-bytes chunks (default 65536)
 *   bench-<X>m     an X MiB reply in --chunk-bytes chunks, e.g. bench-20m
 *   anything else  404 {"error":"model 'NAME' not found"} like Ollama
 *
 * Reply text, so a driver can check what a worker wrote:
 *   chunk 0 of a bench-<N> reply:  reply to "<token>"\n      (JSON-escaped on the wire)
 *   chunk i > 0:                   " t<i>"
 *   bench-<X>k/m: the 30-byte pattern  lorem "ipsum" dolor sit amet.\n  repeated and
 *   cut to exactly X KiB/MiB, split every --chunk-bytes bytes of text.
 *
 * The token is the value of the last "content" key of the request body (the last
 * message), else of "prompt".  The arrival time is taken when the request's
 * headers and body are complete.
 *
 * Model loads, all off by default (see "model loads" below for the rules):
 *   --models a,b,c   the models this instance has: /api/tags lists them ("a" is
 *                    "a:latest"); chat, embed and show for any other model answer 404
 *                    {"error":"model 'x' not found"}; a listed model that is not a
 *                    bench-* name replies with --chunks chunks
 *   --load-ms N      a request for a model not loaded waits N ms (load_duration in ns)
 *   --max-loaded K   models that fit at once; loading one more evicts the LRU idle one
 *   --parallel P     at most P requests loading or generating; the rest wait (FIFO)
 *   --token-us N     N us per content chunk of a reply
 * Loads and evictions are logged on stderr ("fake-ollama SEC.MS load NAME ...").
 *
 * Build: gcc -O2 -Wall -o fake-ollama fake-ollama.c
 * Run:   fake-ollama [--port 0] [--host 127.0.0.1] [--chunks 16] [--chunk-bytes 65536]
 *                    [--log FILE] [--port-file FILE]
 *                    [--models a,b] [--load-ms N] [--max-loaded K] [--parallel P] [--token-us N]
 * Prints "listening 127.0.0.1 PORT" on stdout.  SIGTERM/SIGINT: writes the records
 * to --log FILE (if given) and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER 65536
#define MAX_BODY (64u << 20)

static volatile sig_atomic_t stop_flag = 0;
static int opt_chunks = 16;
static size_t opt_chunk_bytes = 65536;
static const char *opt_log = NULL;

/* ------------------------------------------------------------------ buffers */
typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + extra) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) { perror("realloc"); exit(1); }
    b->p = np;
    b->cap = nc;
}
static void buf_add(buf_t *b, const void *d, size_t n) {
    buf_reserve(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf_t *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < room) { b->len += (size_t)n; return; }
        buf_reserve(b, (size_t)n + 1);
    }
}

/* ------------------------------------------------------------------ records */
typedef struct {
    int64_t ns;
    char token[80];
    char model[32];
    char stream;
} rec_t;
static rec_t *recs;
static size_t nrecs, caprecs;
static uint64_t total_requests, total_conns;

static void rec_add(int64_t ns, const char *tok, size_t toklen, const char *model, size_t mlen, int stream) {
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 4096;
        recs = realloc(recs, caprecs * sizeof *recs);
        if (!recs) { perror("realloc"); exit(1); }
    }
    rec_t *r = &recs[nrecs++];
    r->ns = ns;
    if (toklen == 0) { tok = "-"; toklen = 1; }
    if (toklen >= sizeof r->token) toklen = sizeof r->token - 1;
    for (size_t i = 0; i < toklen; i++) r->token[i] = (tok[i] == ' ' || tok[i] == '\n') ? '_' : tok[i];
    r->token[toklen] = 0;
    if (mlen == 0) { model = "-"; mlen = 1; }
    if (mlen >= sizeof r->model) mlen = sizeof r->model - 1;
    memcpy(r->model, model, mlen);
    r->model[mlen] = 0;
    r->stream = (char)stream;
}

static void recs_dump(buf_t *b) {
    buf_printf(b, "# requests %llu connections %llu chat %zu\n", (unsigned long long)total_requests,
               (unsigned long long)total_conns, nrecs);
    for (size_t i = 0; i < nrecs; i++)
        buf_printf(b, "%lld %s %s %d\n", (long long)recs[i].ns, recs[i].token, recs[i].model, recs[i].stream);
}

/* ------------------------------------------------------------------ time strings */
static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static char date_hdr[64];
static char created_at[48];
static time_t cached_sec = -1;
static void update_times(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(date_hdr, sizeof date_hdr, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_sec = ts.tv_sec;
    }
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(created_at, sizeof created_at, "%s.%09ldZ", base, (long)ts.tv_nsec);
}

/* ------------------------------------------------------------------ JSON scanning */
/* find `"key"` followed by ws ':' ws; returns pointer after ':' ws, or NULL. last!=0: last occurrence */
static const char *json_find_key(const char *s, size_t n, const char *key, int last) {
    size_t kl = strlen(key);
    const char *found = NULL;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), key, kl);
        if (!q) break;
        p = q + kl;
        if (q == s || q[-1] != '"' || p >= end || *p != '"') continue;
        const char *r = p + 1;
        while (r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')) r++;
        if (r >= end || *r != ':') continue;
        r++;
        while (r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')) r++;
        found = r;
        if (!last) break;
    }
    return found;
}
/* value at v must be a string: returns raw (still escaped) contents */
static int json_str_at(const char *v, const char *end, const char **out, size_t *outlen) {
    if (!v || v >= end || *v != '"') return 0;
    const char *p = v + 1;
    while (p < end && *p != '"') {
        if (*p == '\\') p++;
        p++;
    }
    if (p >= end) return 0;
    *out = v + 1;
    *outlen = (size_t)(p - v - 1);
    return 1;
}

/* ------------------------------------------------------------------ replies */
static const char PATTERN[] = "lorem \"ipsum\" dolor sit amet.\n"; /* 30 bytes */

static void json_escape_add(buf_t *b, const char *s, size_t n) {
    buf_reserve(b, n * 2 + 8);
    char *o = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') { *o++ = '\\'; *o++ = '"'; }
        else if (c == '\\') { *o++ = '\\'; *o++ = '\\'; }
        else if (c == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else *o++ = c;
    }
    b->len = (size_t)(o - b->p);
}

/* append one HTTP chunk holding `line` (which must end in \n) */
static void add_http_chunk(buf_t *b, const char *line, size_t n) {
    buf_printf(b, "%zx\r\n", n);
    buf_add(b, line, n);
    buf_adds(b, "\r\n");
}

static void final_fields(buf_t *line, const char *model, long eval_count) {
    buf_printf(line,
               "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":%ld,\"load_duration\":%ld,"
               "\"prompt_eval_count\":%d,\"prompt_eval_duration\":%ld,\"eval_count\":%ld,\"eval_duration\":%ld}\n",
               1234567L, 12345L, 7, 23456L, eval_count, 345678L);
    (void)model;
}

/* Build the text of chunk i for a bench-<N> reply into `t` (raw, unescaped) */
static void small_chunk_text(buf_t *t, int i, const char *tok, size_t toklen) {
    t->len = 0;
    if (i == 0) {
        buf_adds(t, "reply to \"");
        buf_add(t, tok, toklen); /* token is already JSON-escaped text; the driver uses plain tokens */
        buf_adds(t, "\"\n");
    } else {
        buf_printf(t, " t%d", i);
    }
}

/* big replies are cached: body bytes (after the headers) per (size, stream) */
typedef struct {
    size_t size;
    int stream;
    char model[32];
    buf_t body;
} big_t;
static big_t bigs[16];
static int nbigs;

static big_t *get_big(size_t size, int stream, const char *model, size_t mlen) {
    if (mlen >= 32) mlen = 31;
    for (int i = 0; i < nbigs; i++)
        if (bigs[i].size == size && bigs[i].stream == stream && strlen(bigs[i].model) == mlen &&
            memcmp(bigs[i].model, model, mlen) == 0)
            return &bigs[i];
    if (nbigs == 16) { /* evict all: this is a benchmark tool */
        for (int i = 0; i < nbigs; i++) free(bigs[i].body.p);
        nbigs = 0;
    }
    big_t *g = &bigs[nbigs++];
    memset(g, 0, sizeof *g);
    g->size = size;
    g->stream = stream;
    memcpy(g->model, model, mlen);
    g->model[mlen] = 0;
    update_times();
    size_t plen = strlen(PATTERN);
    buf_t text = {0}, line = {0};
    buf_reserve(&text, size);
    while (text.len < size) {
        size_t n = plen;
        if (text.len + n > size) n = size - text.len;
        buf_add(&text, PATTERN, n);
    }
    long nchunks = 0;
    if (stream) {
        for (size_t off = 0; off < size; off += opt_chunk_bytes) {
            size_t n = size - off < opt_chunk_bytes ? size - off : opt_chunk_bytes;
            line.len = 0;
            buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"",
                       g->model, created_at);
            json_escape_add(&line, text.p + off, n);
            buf_adds(&line, "\"},\"done\":false}\n");
            add_http_chunk(&g->body, line.p, line.len);
            nchunks++;
        }
        line.len = 0;
        buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},",
                   g->model, created_at);
        final_fields(&line, g->model, nchunks);
        add_http_chunk(&g->body, line.p, line.len);
        buf_adds(&g->body, "0\r\n\r\n");
    } else {
        nchunks = (long)((size + opt_chunk_bytes - 1) / opt_chunk_bytes);
        buf_printf(&g->body, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"",
                   g->model, created_at);
        json_escape_add(&g->body, text.p, size);
        buf_adds(&g->body, "\"},");
        final_fields(&g->body, g->model, nchunks);
        g->body.len--; /* no trailing newline for a plain JSON body */
    }
    free(text.p);
    free(line.p);
    return g;
}

/* ------------------------------------------------------------------ connections */
typedef struct conn {
    int fd;
    buf_t in;
    buf_t out;
    size_t out_off;
    const char *big;
    size_t big_len, big_off;
    int close_after;
    int sent_continue;
    int eof;   /* the client closed its side */
    int epout; /* EPOLLOUT registered */
    struct gen *gen; /* a delayed reply in progress (model-load mode); no further request is read until it ends */
} conn_t;

static int epfd;
static void gen_cancel(struct gen *g);

static void conn_free(conn_t *c) {
    if (c->gen) gen_cancel(c->gen);
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    free(c);
}

static void respond_simple(conn_t *c, int status, const char *reason, const char *ctype, const char *body, size_t blen) {
    update_times();
    buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nDate: %s\r\nContent-Length: %zu\r\n%s\r\n", status,
               reason, ctype, date_hdr, blen, c->close_after ? "Connection: close\r\n" : "");
    buf_add(&c->out, body, blen);
}

static void respond_json(conn_t *c, int status, const char *reason, const char *body) {
    respond_simple(c, status, reason, "application/json; charset=utf-8", body, strlen(body));
}

static int parse_model_kind(const char *m, size_t n, long *nchunks, size_t *bigsize) {
    /* returns 1 small (nchunks), 2 big (bigsize), 0 unknown */
    if (n < 7 || memcmp(m, "bench-", 6) != 0) return 0;
    const char *p = m + 6, *e = m + n;
    /* allow a ":tag" suffix, e.g. bench-1:latest */
    const char *colon = memchr(p, ':', (size_t)(e - p));
    if (colon) e = colon;
    if (e - p == 1 && *p == 'n') { *nchunks = opt_chunks; return 1; }
    long v = 0;
    const char *q = p;
    while (q < e && isdigit((unsigned char)*q)) { v = v * 10 + (*q - '0'); q++; if (v > 1000000) return 0; }
    if (q == p) return 0;
    if (q == e) { if (v < 1) return 0; *nchunks = v; return 1; }
    if (q + 1 == e && (*q == 'm' || *q == 'M')) { if (v < 1 || v > 512) return 0; *bigsize = (size_t)v << 20; return 2; }
    if (q + 1 == e && (*q == 'k' || *q == 'K')) { if (v < 1 || v > 524288) return 0; *bigsize = (size_t)v << 10; return 2; }
    return 0;
}

static void handle_chat(conn_t *c, const char *body, size_t blen, int64_t arrival) {
    const char *end = body + blen;
    const char *model = NULL, *tok = NULL;
    size_t mlen = 0, toklen = 0;
    json_str_at(json_find_key(body, blen, "model", 0), end, &model, &mlen);
    if (!json_str_at(json_find_key(body, blen, "content", 1), end, &tok, &toklen))
        json_str_at(json_find_key(body, blen, "prompt", 0), end, &tok, &toklen);
    int stream = 1;
    const char *sv = json_find_key(body, blen, "stream", 0);
    if (sv && sv < end && *sv == 'f') stream = 0;
    rec_add(arrival, tok, toklen, model, mlen, stream);

    if (!model) {
        respond_json(c, 400, "Bad Request", "{\"error\":\"model is required\"}");
        return;
    }
    long nchunks = 0;
    size_t bigsize = 0;
    int kind = parse_model_kind(model, mlen, &nchunks, &bigsize);
    if (kind == 0) {
        buf_t e = {0};
        buf_adds(&e, "{\"error\":\"model '");
        buf_add(&e, model, mlen);
        buf_adds(&e, "' not found\"}");
        respond_simple(c, 404, "Not Found", "application/json; charset=utf-8", e.p, e.len);
        free(e.p);
        return;
    }
    update_times();
    if (kind == 2) {
        big_t *g = get_big(bigsize, stream, model, mlen);
        if (stream)
            buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nDate: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                       date_hdr, c->close_after ? "Connection: close\r\n" : "");
        else
            buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: %s\r\nContent-Length: %zu\r\n%s\r\n",
                       date_hdr, g->body.len, c->close_after ? "Connection: close\r\n" : "");
        c->big = g->body.p;
        c->big_len = g->body.len;
        c->big_off = 0;
        return;
    }
    static buf_t text, line;
    char mbuf[32];
    size_t ml = mlen < 31 ? mlen : 31;
    memcpy(mbuf, model, ml);
    mbuf[ml] = 0;
    if (stream) {
        buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nDate: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                   date_hdr, c->close_after ? "Connection: close\r\n" : "");
        for (long i = 0; i < nchunks; i++) {
            small_chunk_text(&text, (int)i, tok ? tok : "-", tok ? toklen : 1);
            line.len = 0;
            buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", mbuf,
                       created_at);
            json_escape_add(&line, text.p, text.len);
            buf_adds(&line, "\"},\"done\":false}\n");
            add_http_chunk(&c->out, line.p, line.len);
        }
        line.len = 0;
        buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},", mbuf,
                   created_at);
        final_fields(&line, mbuf, nchunks);
        add_http_chunk(&c->out, line.p, line.len);
        buf_adds(&c->out, "0\r\n\r\n");
    } else {
        line.len = 0;
        buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", mbuf,
                   created_at);
        for (long i = 0; i < nchunks; i++) {
            small_chunk_text(&text, (int)i, tok ? tok : "-", tok ? toklen : 1);
            json_escape_add(&line, text.p, text.len);
        }
        buf_adds(&line, "\"},");
        final_fields(&line, mbuf, nchunks);
        line.len--;
        respond_simple(c, 200, "OK", "application/json; charset=utf-8", line.p, line.len);
    }
}

static const char TAGS[] =
    "{\"models\":["
    "{\"name\":\"bench-1:latest\",\"model\":\"bench-1:latest\",\"modified_at\":\"2026-01-01T00:00:00Z\",\"size\":1000,\"digest\":\"b1\","
    "\"details\":{\"format\":\"gguf\",\"family\":\"bench\",\"parameter_size\":\"0B\",\"quantization_level\":\"Q0\"}},"
    "{\"name\":\"bench-n:latest\",\"model\":\"bench-n:latest\",\"modified_at\":\"2026-01-01T00:00:00Z\",\"size\":1000,\"digest\":\"bn\","
    "\"details\":{\"format\":\"gguf\",\"family\":\"bench\",\"parameter_size\":\"0B\",\"quantization_level\":\"Q0\"}},"
    "{\"name\":\"bench-20m:latest\",\"model\":\"bench-20m:latest\",\"modified_at\":\"2026-01-01T00:00:00Z\",\"size\":1000,\"digest\":\"b20m\","
    "\"details\":{\"format\":\"gguf\",\"family\":\"bench\",\"parameter_size\":\"0B\",\"quantization_level\":\"Q0\"}}"
    "]}";

static const char SHOW[] =
    "{\"modelfile\":\"\",\"parameters\":\"\",\"template\":\"\",\"details\":{\"format\":\"gguf\",\"family\":\"bench\"},"
    "\"model_info\":{\"general.architecture\":\"bench\",\"bench.context_length\":4096},\"capabilities\":[\"completion\"]}";

/* ------------------------------------------------------------------ model loads (off by default)
 *
 * With any of --models, --load-ms, --max-loaded, --parallel, --token-us, chat and embed
 * requests go through a small simulation of Ollama's scheduler instead of being answered
 * at once:
 *   - a model is "loaded" or not; a request for a model not loaded waits --load-ms first
 *     (one load per model, however many requests wait for it), and its reply's
 *     load_duration is that wait in ns;
 *   - at most --max-loaded models are loaded (or loading) at once; loading one more
 *     evicts the least recently used model that no request is using; if every loaded
 *     model is in use, the request waits;
 *   - at most --parallel requests load or generate at once; the others wait in arrival
 *     order (strict FIFO: the head blocks the rest, as Ollama's scheduler does);
 *   - --token-us N: every content chunk takes N us (a streamed reply's chunk i is sent
 *     (i+1)*N us after generation starts; a non-streamed reply after nchunks*N us);
 *   - a client that closes its connection cancels its request.
 * Waits are timers (one timerfd, CLOCK_MONOTONIC), never blocking calls.
 */
#include <sys/timerfd.h>

static int sim_on;                       /* any of the flags above was given */
static int opt_models_given;             /* --models: only these models exist */
static long opt_load_ms, opt_max_loaded, opt_parallel, opt_token_us;
static int timer_fd = -1;
static char timer_tag;                   /* epoll data.ptr of the timerfd */

enum { M_UNLOADED = 0, M_LOADING = 1, M_LOADED = 2 };
typedef struct {
    char name[64];                       /* normalised: "a" is stored as "a:latest" */
    int state;
    int64_t ready_at, last_used;         /* monotonic ns */
    int users;                           /* requests loading or generating with it */
    uint64_t loads, served, evictions;
} model_t;
static model_t models[64];
static int nmodels;

enum { G_QUEUED = 0, G_LOADING = 1, G_RUNNING = 2 };
typedef struct gen {
    struct gen *prev, *next;             /* all requests, in arrival order */
    conn_t *c;
    model_t *m;
    int state, embed, stream, kind, ninputs;
    long nchunks, next_chunk;
    size_t bigsize;
    char *tok;
    size_t toklen;
    char model[64];                      /* as the client spelled it */
    int64_t arrived, load_from, load_ns, started, next_at; /* monotonic ns */
} gen_t;
static gen_t *gen_head, *gen_tail;
static int n_active, max_active;         /* loading or generating */
static uint64_t n_chat, n_embed, n_not_found, n_served, n_cancelled, n_loads, n_evictions;

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "a" and "a:latest" are one model */
static void model_norm(const char *m, size_t n, char out[64]) {
    if (n > 50) n = 50;
    memcpy(out, m, n);
    out[n] = 0;
    const char *slash = strrchr(out, '/'); /* a tag is a ':' after the last '/' (registry:port/name) */
    if (!strchr(slash ? slash : out, ':')) strcat(out, ":latest");
}

static model_t *model_find(const char *m, size_t n, int create) {
    char key[64];
    model_norm(m, n, key);
    for (int i = 0; i < nmodels; i++)
        if (!strcmp(models[i].name, key)) return &models[i];
    if (!create || nmodels == 64) return NULL;
    model_t *x = &models[nmodels++];
    memset(x, 0, sizeof *x);
    strcpy(x->name, key);
    return x;
}

static void parse_models_opt(const char *list) {
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && n <= 50) model_find(p, n, 1);
        else if (n > 50) { fprintf(stderr, "fake-ollama: model name too long\n"); exit(2); }
        if (!e) break;
        p = e + 1;
    }
    opt_models_given = 1;
}

/* 1 small (nchunks), 2 big (bigsize), 0 no such model */
static int model_kind(const char *m, size_t n, long *nchunks, size_t *bigsize) {
    int kind = parse_model_kind(m, n, nchunks, bigsize);
    if (!opt_models_given) return kind;
    if (!model_find(m, n, 0)) return 0;
    if (kind == 0) { *nchunks = opt_chunks; kind = 1; }
    return kind;
}

static void respond_not_found(conn_t *c, const char *model, size_t mlen) {
    buf_t e = {0};
    buf_adds(&e, "{\"error\":\"model '");
    buf_add(&e, model, mlen);
    buf_adds(&e, "' not found\"}");
    respond_simple(c, 404, "Not Found", "application/json; charset=utf-8", e.p, e.len);
    free(e.p);
}

static void gen_unlink(gen_t *g) {
    if (g->prev) g->prev->next = g->next; else gen_head = g->next;
    if (g->next) g->next->prev = g->prev; else gen_tail = g->prev;
    if (g->state != G_QUEUED) { g->m->users--; n_active--; }
    g->m->last_used = mono_ns();
    if (g->c) g->c->gen = NULL;
    free(g->tok);
    free(g);
}

static void gen_cancel(gen_t *g) {
    n_cancelled++;
    g->c = NULL;
    gen_unlink(g);
}

static void gen_enqueue(conn_t *c, model_t *m, int embed, int stream, int kind, long nchunks, size_t bigsize,
                        const char *tok, size_t toklen, int ninputs, const char *model, size_t mlen) {
    gen_t *g = calloc(1, sizeof *g);
    if (!g) { perror("calloc"); exit(1); }
    g->c = c;
    g->m = m;
    g->embed = embed;
    g->stream = stream;
    g->kind = kind;
    g->nchunks = nchunks;
    g->bigsize = bigsize;
    g->ninputs = ninputs;
    if (!tok || toklen == 0) { tok = "-"; toklen = 1; }
    g->tok = malloc(toklen);
    memcpy(g->tok, tok, toklen);
    g->toklen = toklen;
    if (mlen > 63) mlen = 63;
    memcpy(g->model, model, mlen);
    g->model[mlen] = 0;
    g->arrived = mono_ns();
    g->prev = gen_tail;
    if (gen_tail) gen_tail->next = g; else gen_head = g;
    gen_tail = g;
    c->gen = g;
}

static void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sim_log(const char *fmt, ...) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "fake-ollama %lld.%03ld ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void gen_run(gen_t *g, int64_t now) {
    g->state = G_RUNNING;
    g->started = now;
    g->next_chunk = 0;
    long steps = g->embed || g->kind == 2 ? 0 : (g->stream ? 1 : g->nchunks);
    g->next_at = now + (int64_t)steps * opt_token_us * 1000;
}

/* start what can start, in arrival order; returns 1 if anything changed */
static int sim_schedule(int64_t now) {
    int changed = 0;
    for (gen_t *g = gen_head; g; g = g->next) {
        if (g->state != G_QUEUED) continue;
        if (opt_parallel && n_active >= opt_parallel) break;
        model_t *m = g->m;
        if (m->state == M_UNLOADED) {
            int loaded = 0;
            for (int i = 0; i < nmodels; i++) loaded += models[i].state != M_UNLOADED;
            char evicted[64] = "";
            if (opt_max_loaded && loaded >= opt_max_loaded) {
                model_t *victim = NULL;
                for (int i = 0; i < nmodels; i++)
                    if (models[i].state == M_LOADED && models[i].users == 0 &&
                        (!victim || models[i].last_used < victim->last_used))
                        victim = &models[i];
                if (!victim) break; /* every loaded model is busy: the head waits, and so does the rest */
                victim->state = M_UNLOADED;
                victim->evictions++;
                n_evictions++;
                strcpy(evicted, victim->name);
            }
            m->state = M_LOADING;
            m->ready_at = now + (int64_t)opt_load_ms * 1000000;
            m->loads++;
            n_loads++;
            sim_log("load %s (%ld ms)%s%s loads=%llu", m->name, opt_load_ms, evicted[0] ? " evicting " : "", evicted,
                    (unsigned long long)m->loads);
        }
        m->users++;
        n_active++;
        if (n_active > max_active) max_active = n_active;
        m->last_used = now;
        changed = 1;
        if (m->state == M_LOADING) { g->state = G_LOADING; g->load_from = now; }
        else gen_run(g, now);
    }
    return changed;
}

static void sim_final_fields(buf_t *b, gen_t *g, int64_t now) {
    long evald = (long)(g->nchunks * opt_token_us * 1000);
    buf_printf(b,
               "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":%lld,\"load_duration\":%lld,"
               "\"prompt_eval_count\":%d,\"prompt_eval_duration\":%ld,\"eval_count\":%ld,\"eval_duration\":%ld}",
               (long long)(now - g->arrived), (long long)(g->load_ns ? g->load_ns : 12345), 7, 23456L, g->nchunks,
               evald ? evald : 345678L);
}

static void sim_chunk_line(buf_t *line, gen_t *g, long i) {
    static buf_t text;
    small_chunk_text(&text, (int)i, g->tok, g->toklen);
    buf_printf(line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", g->model,
               created_at);
    json_escape_add(line, text.p, text.len);
    buf_adds(line, "\"},\"done\":false}\n");
}

/* the next piece of g's reply is due: write it; returns 1 when the reply is complete */
static int gen_step(gen_t *g, int64_t now) {
    conn_t *c = g->c;
    static buf_t line;
    update_times();
    const char *close_hdr = c->close_after ? "Connection: close\r\n" : "";
    if (g->embed) {
        line.len = 0;
        buf_printf(&line, "{\"model\":\"%s\",\"embeddings\":[", g->model);
        for (int i = 0; i < g->ninputs; i++) buf_printf(&line, "%s[0.1,-0.2,0.3,%d.5]", i ? "," : "", i);
        buf_printf(&line, "],\"total_duration\":%lld,\"load_duration\":%lld,\"prompt_eval_count\":%d}",
                   (long long)(now - g->arrived), (long long)(g->load_ns ? g->load_ns : 12345), g->ninputs);
        respond_simple(c, 200, "OK", "application/json; charset=utf-8", line.p, line.len);
        return 1;
    }
    if (g->kind == 2) { /* big replies: no per-token cost, the cached body as without these flags */
        big_t *b = get_big(g->bigsize, g->stream, g->model, strlen(g->model));
        if (g->stream)
            buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nDate: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                       date_hdr, close_hdr);
        else
            buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nDate: %s\r\nContent-Length: %zu\r\n%s\r\n",
                       date_hdr, b->body.len, close_hdr);
        c->big = b->body.p;
        c->big_len = b->body.len;
        c->big_off = 0;
        return 1;
    }
    if (!g->stream) {
        line.len = 0;
        buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"", g->model,
                   created_at);
        static buf_t text;
        for (long i = 0; i < g->nchunks; i++) {
            small_chunk_text(&text, (int)i, g->tok, g->toklen);
            json_escape_add(&line, text.p, text.len);
        }
        buf_adds(&line, "\"},");
        sim_final_fields(&line, g, now);
        respond_simple(c, 200, "OK", "application/json; charset=utf-8", line.p, line.len);
        return 1;
    }
    if (g->next_chunk == 0)
        buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nDate: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                   date_hdr, close_hdr);
    /* without a per-token cost, the whole reply at once */
    long upto = opt_token_us ? g->next_chunk + 1 : g->nchunks;
    for (; g->next_chunk < upto; g->next_chunk++) {
        line.len = 0;
        sim_chunk_line(&line, g, g->next_chunk);
        add_http_chunk(&c->out, line.p, line.len);
    }
    if (g->next_chunk < g->nchunks) {
        g->next_at += opt_token_us * 1000;
        return 0;
    }
    line.len = 0;
    buf_printf(&line, "{\"model\":\"%s\",\"created_at\":\"%s\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},", g->model,
               created_at);
    sim_final_fields(&line, g, now);
    buf_adds(&line, "\n");
    add_http_chunk(&c->out, line.p, line.len);
    buf_adds(&c->out, "0\r\n\r\n");
    return 1;
}

static int pump(conn_t *c);
static int flush_out(conn_t *c);

/* advance every load and reply that is due, start what can start, arm the timer */
static void sim_tick(void) {
    for (;;) {
        int64_t now = mono_ns();
        int changed = 0;
        for (int i = 0; i < nmodels; i++) {
            model_t *m = &models[i];
            if (m->state != M_LOADING || m->ready_at > now) continue;
            m->state = M_LOADED;
            m->last_used = now;
            for (gen_t *g = gen_head; g; g = g->next)
                if (g->m == m && g->state == G_LOADING) {
                    g->load_ns = now - g->load_from;
                    gen_run(g, now);
                }
            changed = 1;
        }
        if (sim_schedule(now)) changed = 1;
        for (gen_t *g = gen_head; g; g = g->next) {
            if (g->state != G_RUNNING || g->next_at > now) continue;
            conn_t *c = g->c;
            int done = gen_step(g, now);
            if (done) {
                g->m->served++;
                n_served++;
                gen_unlink(g); /* clears c->gen */
                if (pump(c) < 0) conn_free(c); /* the reply, then any pipelined request */
            } else if (flush_out(c) < 0) {
                conn_free(c); /* cancels g */
            }
            changed = 1;
            break; /* the list may have changed: scan again */
        }
        if (!changed) break;
    }
    int64_t next = 0;
    for (int i = 0; i < nmodels; i++)
        if (models[i].state == M_LOADING && (!next || models[i].ready_at < next)) next = models[i].ready_at;
    for (gen_t *g = gen_head; g; g = g->next)
        if (g->state == G_RUNNING && (!next || g->next_at < next)) next = g->next_at;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (next) {
        its.it_value.tv_sec = next / 1000000000LL;
        its.it_value.tv_nsec = next % 1000000000LL;
    }
    timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL); /* all zero: disarmed */
}

/* chat or embed with the flags on: queue it; sim_tick (after this event batch) does the rest */
static void sim_request(conn_t *c, int embed, const char *body, size_t blen) {
    const char *end = body + blen;
    const char *model = NULL, *tok = NULL;
    size_t mlen = 0, toklen = 0;
    json_str_at(json_find_key(body, blen, "model", 0), end, &model, &mlen);
    int ninputs = 1, stream = 1;
    if (embed) {
        n_embed++;
        const char *iv = json_find_key(body, blen, "input", 0);
        if (iv && iv < end && *iv == '[') { /* count the strings of the array */
            ninputs = 0;
            const char *p = iv + 1, *s;
            size_t sl;
            for (;;) {
                while (p < end && (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
                if (!json_str_at(p, end, &s, &sl)) break;
                if (ninputs == 0) { tok = s; toklen = sl; }
                ninputs++;
                p = s + sl + 1;
            }
            if (ninputs == 0) ninputs = 1;
        } else {
            json_str_at(iv, end, &tok, &toklen);
        }
        stream = 0;
    } else {
        n_chat++;
        if (!json_str_at(json_find_key(body, blen, "content", 1), end, &tok, &toklen))
            json_str_at(json_find_key(body, blen, "prompt", 0), end, &tok, &toklen);
        const char *sv = json_find_key(body, blen, "stream", 0);
        if (sv && sv < end && *sv == 'f') stream = 0;
    }
    rec_add(now_ns(), tok, toklen, model, mlen, stream);
    if (!model) {
        respond_json(c, 400, "Bad Request", "{\"error\":\"model is required\"}");
        return;
    }
    long nchunks = 0;
    size_t bigsize = 0;
    int kind = model_kind(model, mlen, &nchunks, &bigsize);
    if (kind == 0) {
        n_not_found++;
        respond_not_found(c, model, mlen);
        return;
    }
    model_t *m = model_find(model, mlen, 1);
    if (!m) {
        respond_json(c, 500, "Internal Server Error", "{\"error\":\"too many models\"}");
        return;
    }
    gen_enqueue(c, m, embed, stream, kind, nchunks, bigsize, tok, toklen, ninputs, model, mlen);
}

/* /api/embed without the flags: an immediate reply for any bench-* model */
static void handle_embed(conn_t *c, const char *body, size_t blen) {
    const char *end = body + blen, *model = NULL;
    size_t mlen = 0;
    json_str_at(json_find_key(body, blen, "model", 0), end, &model, &mlen);
    long nchunks;
    size_t bigsize;
    if (!model) { respond_json(c, 400, "Bad Request", "{\"error\":\"model is required\"}"); return; }
    if (!parse_model_kind(model, mlen, &nchunks, &bigsize)) { respond_not_found(c, model, mlen); return; }
    buf_t b = {0};
    buf_adds(&b, "{\"model\":\"");
    buf_add(&b, model, mlen);
    buf_adds(&b, "\",\"embeddings\":[[0.1,-0.2,0.3,0.5]],\"total_duration\":1234567,\"load_duration\":12345,\"prompt_eval_count\":1}");
    respond_simple(c, 200, "OK", "application/json; charset=utf-8", b.p, b.len);
    free(b.p);
}

static void model_json(buf_t *b, const char *name, int ps) {
    unsigned h = 5381;
    for (const char *p = name; *p; p++) h = h * 33 + (unsigned char)*p;
    buf_printf(b, "{\"name\":\"%s\",\"model\":\"%s\",\"size\":1000,\"digest\":\"%08x%08x\",", name, name, h, h ^ 0x5bd1e995u);
    if (ps) {
        char exp[40];
        time_t t = time(NULL) + 300;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        buf_printf(b, "\"expires_at\":\"%s\",\"size_vram\":1000,\"context_length\":4096,", exp);
    } else {
        buf_adds(b, "\"modified_at\":\"2026-01-01T00:00:00Z\",");
    }
    buf_adds(b, "\"details\":{\"format\":\"gguf\",\"family\":\"bench\",\"parameter_size\":\"0B\",\"quantization_level\":\"Q0\"}}");
}

/* /api/tags with --models, or /api/ps (ps=1: the loaded models) */
static void respond_models(conn_t *c, int ps) {
    buf_t b = {0};
    buf_adds(&b, "{\"models\":[");
    int n = 0;
    for (int i = 0; i < nmodels; i++) {
        if (ps && models[i].state != M_LOADED) continue;
        if (n++) buf_adds(&b, ",");
        model_json(&b, models[i].name, ps);
    }
    buf_adds(&b, "]}");
    respond_simple(c, 200, "OK", "application/json; charset=utf-8", b.p, b.len);
    free(b.p);
}

static void stats_json(buf_t *b) {
    int queued = 0;
    for (gen_t *g = gen_head; g; g = g->next) queued += g->state == G_QUEUED;
    buf_printf(b,
               "{\"requests\":%llu,\"connections\":%llu,\"chat\":%llu,\"embed\":%llu,\"not_found\":%llu,\"served\":%llu,"
               "\"cancelled\":%llu,\"loads\":%llu,\"evictions\":%llu,\"active\":%d,\"queued\":%d,\"max_active\":%d,"
               "\"load_ms\":%ld,\"max_loaded\":%ld,\"parallel\":%ld,\"token_us\":%ld,\"models\":{",
               (unsigned long long)total_requests, (unsigned long long)total_conns, (unsigned long long)n_chat,
               (unsigned long long)n_embed, (unsigned long long)n_not_found, (unsigned long long)n_served,
               (unsigned long long)n_cancelled, (unsigned long long)n_loads, (unsigned long long)n_evictions, n_active,
               queued, max_active, opt_load_ms, opt_max_loaded, opt_parallel, opt_token_us);
    for (int i = 0; i < nmodels; i++) {
        model_t *m = &models[i];
        buf_printf(b, "%s\"%s\":{\"loads\":%llu,\"served\":%llu,\"evictions\":%llu,\"loaded\":%s}", i ? "," : "", m->name,
                   (unsigned long long)m->loads, (unsigned long long)m->served, (unsigned long long)m->evictions,
                   m->state == M_LOADED ? "true" : m->state == M_LOADING ? "\"loading\"" : "false");
    }
    buf_adds(b, "}}");
    buf_add(b, "", 1); /* a C string too, for the log */
    b->len--;
}

static void stats_reset(void) {
    n_chat = n_embed = n_not_found = n_served = n_cancelled = n_loads = n_evictions = 0;
    max_active = n_active;
    for (int i = 0; i < nmodels; i++) models[i].loads = models[i].served = models[i].evictions = 0;
}

static void handle_request(conn_t *c, const char *method, size_t mlen, const char *path, size_t plen, const char *body,
                           size_t blen, int64_t arrival) {
    total_requests++;
    const char *q = memchr(path, '?', plen);
    size_t base = q ? (size_t)(q - path) : plen;
#define PATH_IS(s) (base == sizeof(s) - 1 && memcmp(path, s, base) == 0)
#define METHOD_IS(s) (mlen == sizeof(s) - 1 && memcmp(method, s, mlen) == 0)
    if (PATH_IS("/api/chat")) {
        if (!METHOD_IS("POST")) { respond_simple(c, 405, "Method Not Allowed", "text/plain", "405 method not allowed", 22); return; }
        if (sim_on) sim_request(c, 0, body, blen);
        else handle_chat(c, body, blen, arrival);
    } else if (PATH_IS("/api/embed")) {
        if (!METHOD_IS("POST")) { respond_simple(c, 405, "Method Not Allowed", "text/plain", "405 method not allowed", 22); return; }
        if (sim_on) sim_request(c, 1, body, blen);
        else handle_embed(c, body, blen);
    } else if (PATH_IS("/api/version")) {
        respond_json(c, 200, "OK", "{\"version\":\"0.12.0\"}");
    } else if (PATH_IS("/api/tags")) {
        if (opt_models_given) respond_models(c, 0);
        else respond_json(c, 200, "OK", TAGS);
    } else if (PATH_IS("/api/show")) {
        const char *m = NULL;
        size_t ml = 0;
        if (opt_models_given && json_str_at(json_find_key(body, blen, "model", 0), body + blen, &m, &ml) &&
            !model_find(m, ml, 0)) {
            n_not_found++;
            respond_not_found(c, m, ml);
        }
        else respond_json(c, 200, "OK", SHOW);
    } else if (PATH_IS("/api/ps")) {
        if (sim_on) respond_models(c, 1);
        else respond_json(c, 200, "OK", "{\"models\":[]}");
    } else if (PATH_IS("/fake/stats")) {
        buf_t b = {0};
        stats_json(&b);
        respond_simple(c, 200, "OK", "application/json; charset=utf-8", b.p, b.len);
        free(b.p);
        if (q && memmem(q, plen - base, "reset=1", 7)) stats_reset();
    } else if (PATH_IS("/")) {
        if (METHOD_IS("HEAD")) { update_times(); buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: %s\r\nContent-Length: 17\r\n\r\n", date_hdr); }
        else respond_simple(c, 200, "OK", "text/plain; charset=utf-8", "Ollama is running", 17);
    } else if (PATH_IS("/_stats")) {
        buf_t b = {0};
        recs_dump(&b);
        respond_simple(c, 200, "OK", "text/plain", b.p, b.len);
        free(b.p);
        if (q && memmem(q, plen - base, "reset=1", 7)) nrecs = 0;
    } else if (PATH_IS("/_reset")) {
        nrecs = 0;
        respond_simple(c, 200, "OK", "text/plain", "ok\n", 3);
    } else {
        respond_simple(c, 404, "Not Found", "text/plain", "404 page not found", 18);
    }
}

static int hdr_eq(const char *name, size_t nlen, const char *want) {
    return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

/* decode a chunked body starting at p (len n). returns bytes consumed, 0 if incomplete, -1 on error */
static long dechunk(const char *p, size_t n, buf_t *out) {
    size_t i = 0;
    out->len = 0;
    for (;;) {
        const char *crlf = memmem(p + i, n - i, "\r\n", 2);
        if (!crlf) return 0;
        char *e;
        unsigned long sz = strtoul(p + i, &e, 16);
        if (e == p + i) return -1;
        i = (size_t)(crlf - p) + 2;
        if (sz == 0) {
            /* trailers until empty line */
            for (;;) {
                const char *c2 = memmem(p + i, n - i, "\r\n", 2);
                if (!c2) return 0;
                size_t l = (size_t)(c2 - (p + i));
                i += l + 2;
                if (l == 0) return (long)i;
            }
        }
        if (sz > MAX_BODY || out->len + sz > MAX_BODY) return -1;
        if (n - i < sz + 2) return 0;
        buf_add(out, p + i, sz);
        i += sz + 2;
    }
}

/* returns 1 if a request was handled, 0 if more data is needed, -1 to close */
static int process_one(conn_t *c) {
    if (c->in.len == 0) return 0;
    char *s = c->in.p;
    char *he = memmem(s, c->in.len, "\r\n\r\n", 4);
    if (!he) {
        if (c->in.len > MAX_HEADER) return -1;
        return 0;
    }
    size_t hlen = (size_t)(he - s) + 4;
    /* request line */
    char *le = memmem(s, hlen, "\r\n", 2);
    char *sp1 = memchr(s, ' ', (size_t)(le - s));
    if (!sp1) return -1;
    char *sp2 = memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
    if (!sp2) return -1;
    const char *method = s;
    size_t mlen = (size_t)(sp1 - s);
    const char *path = sp1 + 1;
    size_t plen = (size_t)(sp2 - sp1 - 1);
    int http10 = (le - sp2 - 1 == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0);
    long clen = -1;
    int chunked = 0, conn_close = http10, expect = 0;
    char *h = le + 2;
    while (h < he) {
        char *hle = memmem(h, (size_t)(he + 2 - h), "\r\n", 2);
        if (!hle) break;
        char *colon = memchr(h, ':', (size_t)(hle - h));
        if (colon) {
            size_t nlen = (size_t)(colon - h);
            char *v = colon + 1;
            while (v < hle && (*v == ' ' || *v == '\t')) v++;
            size_t vlen = (size_t)(hle - v);
            if (hdr_eq(h, nlen, "content-length")) clen = strtol(v, NULL, 10);
            else if (hdr_eq(h, nlen, "transfer-encoding")) chunked = vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0;
            else if (hdr_eq(h, nlen, "connection")) {
                if (vlen >= 5 && strncasecmp(v, "close", 5) == 0) conn_close = 1;
                else if (vlen >= 10 && strncasecmp(v, "keep-alive", 10) == 0) conn_close = 0;
            } else if (hdr_eq(h, nlen, "expect")) expect = vlen >= 12 && strncasecmp(v, "100-continue", 12) == 0;
        }
        h = hle + 2;
    }
    const char *body = s + hlen;
    size_t blen = 0, consumed;
    static buf_t dec;
    if (chunked) {
        long r = dechunk(body, c->in.len - hlen, &dec);
        if (r < 0) return -1;
        if (r == 0) goto need_more;
        body = dec.p ? dec.p : "";
        blen = dec.len;
        consumed = hlen + (size_t)r;
    } else {
        if (clen < 0) clen = 0;
        if ((unsigned long)clen > MAX_BODY) return -1;
        if (c->in.len - hlen < (size_t)clen) goto need_more;
        blen = (size_t)clen;
        consumed = hlen + blen;
    }
    {
        int64_t arrival = now_ns();
        c->close_after = conn_close;
        c->sent_continue = 0;
        handle_request(c, method, mlen, path, plen, body, blen, arrival);
        memmove(c->in.p, c->in.p + consumed, c->in.len - consumed);
        c->in.len -= consumed;
        return 1;
    }
need_more:
    if (expect && !c->sent_continue) {
        buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
        c->sent_continue = 1;
    }
    return 0;
}

static void set_epout(conn_t *c, int on) {
    if (c->epout == on) return;
    struct epoll_event ev = {.events = (c->eof ? 0 : EPOLLIN) | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->epout = on;
}

/* returns -1 if the connection must be closed */
static int flush_out(conn_t *c) {
    for (;;) {
        struct iovec iov[2];
        int n = 0;
        if (c->out_off < c->out.len) { iov[n].iov_base = c->out.p + c->out_off; iov[n].iov_len = c->out.len - c->out_off; n++; }
        if (c->big && c->big_off < c->big_len) { iov[n].iov_base = (void *)(c->big + c->big_off); iov[n].iov_len = c->big_len - c->big_off; n++; }
        if (n == 0) break;
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) { set_epout(c, 1); return 0; }
            return -1;
        }
        size_t ww = (size_t)w;
        size_t a = c->out.len - c->out_off;
        if (ww <= a) c->out_off += ww;
        else { c->out_off = c->out.len; c->big_off += ww - a; }
    }
    c->out.len = c->out_off = 0;
    c->big = NULL;
    c->big_len = c->big_off = 0;
    set_epout(c, 0);
    if (c->close_after && !c->gen) return -1;
    return 0;
}

static int pump(conn_t *c) {
    /* handle as many buffered requests as possible, but never start one while a big
       reply is still being sent (so the output stays in order) */
    for (;;) {
        int progressed = 0;
        while (!c->big && !c->close_after && !c->gen) {
            int r = process_one(c);
            if (r < 0) return -1;
            if (r == 0) break;
            progressed = 1;
            if (c->out.len > (1u << 20)) break; /* let the output drain first */
        }
        if (flush_out(c) < 0) return -1;
        if (c->epout) return 0; /* output pending: EPOLLOUT will call us again */
        if (!progressed) return c->eof ? -1 : 0;
    }
}

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void usage(void) {
    fprintf(stderr, "usage: fake-ollama [--port N] [--host 127.0.0.1|::1] [--chunks N] [--chunk-bytes N] [--log FILE] [--port-file FILE]\n"
                    "                   [--models a,b,...] [--load-ms N] [--max-loaded K] [--parallel P] [--token-us N]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int port = 0;
    const char *host = "127.0.0.1", *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--chunks") && i + 1 < argc) opt_chunks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chunk-bytes") && i + 1 < argc) opt_chunk_bytes = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--log") && i + 1 < argc) opt_log = argv[++i];
        else if (!strcmp(argv[i], "--port-file") && i + 1 < argc) port_file = argv[++i];
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) { parse_models_opt(argv[++i]); sim_on = 1; }
        else if (!strcmp(argv[i], "--load-ms") && i + 1 < argc) { opt_load_ms = atol(argv[++i]); sim_on = 1; }
        else if (!strcmp(argv[i], "--max-loaded") && i + 1 < argc) { opt_max_loaded = atol(argv[++i]); sim_on = 1; }
        else if (!strcmp(argv[i], "--parallel") && i + 1 < argc) { opt_parallel = atol(argv[++i]); sim_on = 1; }
        else if (!strcmp(argv[i], "--token-us") && i + 1 < argc) { opt_token_us = atol(argv[++i]); sim_on = 1; }
        else usage();
    }
    if (opt_chunks < 1 || opt_chunk_bytes < 1 || opt_load_ms < 0 || opt_max_loaded < 0 || opt_parallel < 0 ||
        opt_token_us < 0)
        usage();
    int v6 = strchr(host, ':') != NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1 || !IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)) {
            fprintf(stderr, "fake-ollama: only a loopback address is allowed\n");
            return 2;
        }
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1 || (ntohl(a->sin_addr.s_addr) >> 24) != 127) {
            fprintf(stderr, "fake-ollama: only a loopback address is allowed\n");
            return 2;
        }
        sl = sizeof *a;
    }
    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&ss, sl) < 0) { perror("bind"); return 1; }
    if (listen(lfd, 1024) < 0) { perror("listen"); return 1; }
    sl = sizeof ss;
    getsockname(lfd, (struct sockaddr *)&ss, &sl);
    int real_port = v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    if (sim_on) {
        timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &timer_tag};
        if (timer_fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &tev) < 0) { perror("timerfd"); return 1; }
    }

    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) { fprintf(f, "%d\n", real_port); fclose(f); }
    }
    printf("listening %s %d\n", host, real_port);
    fflush(stdout);

    struct epoll_event evs[256];
    while (!stop_flag) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn_t *c = calloc(1, sizeof *c);
                    c->fd = fd;
                    total_conns++;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (evs[i].data.ptr == &timer_tag) {
                uint64_t expirations;
                if (read(timer_fd, &expirations, sizeof expirations) < 0) { /* EAGAIN: nothing */ }
                continue;
            }
            conn_t *c = evs[i].data.ptr;
            int dead = 0;
            if (evs[i].events & (EPOLLERR)) dead = 1;
            if (!dead && (evs[i].events & EPOLLOUT)) {
                if (pump(c) < 0) dead = 1;
            }
            if (!dead && (evs[i].events & (EPOLLIN | EPOLLHUP))) {
                for (;;) {
                    buf_reserve(&c->in, 65536);
                    ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
                    if (r > 0) {
                        c->in.len += (size_t)r;
                        if ((size_t)r < 65536) break;
                        if (c->in.len > MAX_BODY + MAX_HEADER) { dead = 1; break; }
                        continue;
                    }
                    if (r == 0) {
                        c->eof = 1;
                        struct epoll_event mev = {.events = c->epout ? EPOLLOUT : 0, .data.ptr = c};
                        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &mev);
                        break;
                    }
                    if (errno == EINTR) continue;
                    if (errno != EAGAIN && errno != EWOULDBLOCK) dead = 1;
                    break;
                }
                if (!dead && pump(c) < 0) dead = 1;
            }
            if (dead) conn_free(c);
        }
        if (sim_on) sim_tick();
    }
    if (sim_on) {
        buf_t b = {0};
        stats_json(&b);
        sim_log("stats %s", b.p);
        if (opt_log) {
            FILE *f = fopen(opt_log, "a");
            if (f) { fprintf(f, "# stats %s\n", b.p); fclose(f); }
        }
        free(b.p);
    }
    if (opt_log) {
        FILE *f = fopen(opt_log, "a");
        if (f) {
            buf_t b = {0};
            recs_dump(&b);
            fwrite(b.p, 1, b.len, f);
            fclose(f);
        }
    }
    return 0;
}
