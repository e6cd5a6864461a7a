/*
 * floor: the file system's limit for the spool protocol.  Each job does, with no
 * HTTP and no waiting, exactly the file operations a worker and a producer must do:
 *
 *   producer  1 create tmp/NAME.json (O_EXCL), write the request, close
 *             2 rename tmp/NAME.json -> incoming/NAME.json
 *   worker    3 claim: renameat2(incoming/NAME.json, active/ID.json, RENAME_NOREPLACE)
 *             4 open, read, close active/ID.json
 *             5 create active/ID.partial, write the reply text, close
 *             6 create done/.ID.txt.tmp, write the text, fsync, close
 *             7 create done/.ID.result.json.tmp, write the envelope, fsync, close
 *             8 rename done/.ID.txt.tmp -> done/ID.txt
 *             9 rename active/ID.json -> done/ID.json (RENAME_NOREPLACE)
 *            10 rename done/.ID.result.json.tmp -> done/ID.result.json
 *            11 unlink active/ID.partial
 *            12 fsync the done/ and active/ directories
 *
 * --lean: steps 5-6 become "create active/ID.partial, write, fsync, close" and step 8
 * "rename active/ID.partial -> done/ID.txt" (no second copy of the text, no unlink):
 * the least a worker that keeps a tail-able partial can do.
 *
 *   floor --dir DIR [--jobs N] [--threads T] [--lean] [--reply-bytes B] [--max-seconds S]
 *   floor --fscheck --dir DIR [--files 200]
 *
 * --max-seconds: start no new job after S seconds (jobs/s counts the jobs done).
 * Prints one JSON line.  --fscheck creates N files (create+write+close) in a fresh
 * DIR, then fsyncs each one, and reports the mean and median microseconds of each.
 *
 * Build: gcc -O2 -Wall -pthread -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static const char *dir;
static int njobs = 2000, nthreads = 1, lean = 0, reply_bytes = 24;
static double deadline = 0; /* --max-seconds: stop starting jobs after this (monotonic) */
static int dfd_tmp, dfd_in, dfd_act, dfd_done;

enum { S_PRODUCE, S_CLAIM, S_READ, S_PARTIAL, S_TXT, S_RESULT, S_RENAMES, S_DIRSYNC, NSTEP };
static const char *step_names[NSTEP] = {"produce", "claim", "read", "partial", "txt", "result", "renames", "dirsync"};

typedef struct {
    int tid;
    int jobs;
    double step[NSTEP];
    int errors;
} thr_t;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *name) {
    fprintf(stderr, "floor: %s %s: %s\n", what, name, strerror(errno));
    exit(1);
}

static void write_file(int dfd, const char *name, const char *data, size_t n, int do_fsync) {
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) die("create", name);
    if (write(fd, data, n) != (ssize_t)n) die("write", name);
    if (do_fsync && fsync(fd) < 0) die("fsync", name);
    close(fd);
}

static void *run(void *arg) {
    thr_t *t = arg;
    char name[64], name2[64], tmpname[80], req[256], buf[4096], env[1024];
    char *reply = malloc((size_t)reply_bytes + 1);
    memset(reply, 'x', (size_t)reply_bytes);
    for (int i = t->tid; i < njobs; i += nthreads) {
        double a = mono(), b;
        if (deadline > 0 && a > deadline) break;
        t->jobs++;
        snprintf(name, sizeof name, "job-%06d.json", i);
        int rl = snprintf(req, sizeof req, "{\"model\":\"bench-1\",\"prompt\":\"job-%06d\",\"id\":\"job-%06d\"}", i, i);
        /* 1-2 producer */
        write_file(dfd_tmp, name, req, (size_t)rl, 0);
        if (renameat(dfd_tmp, name, dfd_in, name) < 0) die("rename", name);
        b = mono(); t->step[S_PRODUCE] += b - a; a = b;
        /* 3 claim */
        if (renameat2(dfd_in, name, dfd_act, name, RENAME_NOREPLACE) < 0) die("claim", name);
        b = mono(); t->step[S_CLAIM] += b - a; a = b;
        /* 4 read the request */
        int fd = openat(dfd_act, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open", name);
        if (read(fd, buf, sizeof buf) < 0) die("read", name);
        close(fd);
        b = mono(); t->step[S_READ] += b - a; a = b;
        /* 5 partial */
        snprintf(name2, sizeof name2, "job-%06d.partial", i);
        write_file(dfd_act, name2, reply, (size_t)reply_bytes, lean);
        b = mono(); t->step[S_PARTIAL] += b - a; a = b;
        /* 6 txt */
        if (!lean) {
            snprintf(tmpname, sizeof tmpname, ".job-%06d.txt.tmp", i);
            write_file(dfd_done, tmpname, reply, (size_t)reply_bytes, 1);
        }
        b = mono(); t->step[S_TXT] += b - a; a = b;
        /* 7 result envelope */
        int el = snprintf(env, sizeof env,
                          "{\"id\":\"job-%06d\",\"status\":\"done\",\"model\":\"bench-1\",\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},"
                          "\"done_reason\":\"stop\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1},\"timing\":{\"queued_at\":\"2026-01-01T00:00:00Z\","
                          "\"started_at\":\"2026-01-01T00:00:00Z\",\"finished_at\":\"2026-01-01T00:00:00Z\",\"load_ms\":0,\"prompt_eval_ms\":0,"
                          "\"eval_ms\":0,\"total_ms\":1,\"tokens_per_second\":0},\"attempts\":1,\"worker\":\"floor:1\",\"metadata\":null}\n",
                          i, reply_bytes < 200 ? reply : "");
        char rtmp[80], rname[80], tname[80];
        snprintf(rtmp, sizeof rtmp, ".job-%06d.result.json.tmp", i);
        snprintf(rname, sizeof rname, "job-%06d.result.json", i);
        snprintf(tname, sizeof tname, "job-%06d.txt", i);
        write_file(dfd_done, rtmp, env, (size_t)el, 1);
        b = mono(); t->step[S_RESULT] += b - a; a = b;
        /* 8-11 renames */
        if (lean) {
            if (renameat(dfd_act, name2, dfd_done, tname) < 0) die("rename", name2);
        } else {
            if (renameat(dfd_done, tmpname, dfd_done, tname) < 0) die("rename", tmpname);
        }
        if (renameat2(dfd_act, name, dfd_done, name, RENAME_NOREPLACE) < 0) die("rename", name);
        if (renameat(dfd_done, rtmp, dfd_done, rname) < 0) die("rename", rtmp);
        if (!lean && unlinkat(dfd_act, name2, 0) < 0) die("unlink", name2);
        b = mono(); t->step[S_RENAMES] += b - a; a = b;
        /* 12 directories */
        if (fsync(dfd_done) < 0) die("fsync", "done/");
        if (fsync(dfd_act) < 0) die("fsync", "active/");
        b = mono(); t->step[S_DIRSYNC] += b - a;
    }
    free(reply);
    return NULL;
}

static int open_sub(const char *sub) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    if (mkdir(p, 0755) < 0 && errno != EEXIST) die("mkdir", p);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) die("open", p);
    return fd;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int fscheck(int nfiles) {
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) die("mkdir", dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("open", dir);
    double *c = malloc(sizeof(double) * (size_t)nfiles), *s = malloc(sizeof(double) * (size_t)nfiles);
    char name[64];
    double tc = 0, ts = 0;
    for (int i = 0; i < nfiles; i++) {
        snprintf(name, sizeof name, "f%05d", i);
        double a = mono();
        write_file(dfd, name, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", 64, 0);
        c[i] = (mono() - a) * 1e6;
        tc += c[i];
    }
    for (int i = 0; i < nfiles; i++) {
        snprintf(name, sizeof name, "f%05d", i);
        double a = mono();
        int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0) die("fsync", name);
        close(fd);
        s[i] = (mono() - a) * 1e6;
        ts += s[i];
    }
    double a = mono();
    fsync(dfd);
    double dirsync = (mono() - a) * 1e6;
    qsort(c, (size_t)nfiles, sizeof *c, cmpd);
    qsort(s, (size_t)nfiles, sizeof *s, cmpd);
    printf("{\"files\":%d,\"create_mean_us\":%.1f,\"create_p50_us\":%.1f,\"create_max_us\":%.1f,"
           "\"fsync_mean_us\":%.1f,\"fsync_p50_us\":%.1f,\"fsync_max_us\":%.1f,\"dir_fsync_us\":%.1f}\n",
           nfiles, tc / nfiles, c[nfiles / 2], c[nfiles - 1], ts / nfiles, s[nfiles / 2], s[nfiles - 1], dirsync);
    return 0;
}

int main(int argc, char **argv) {
    int check = 0, nfiles = 200;
    double max_seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) njobs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reply-bytes") && i + 1 < argc) reply_bytes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--files") && i + 1 < argc) nfiles = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc) max_seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--lean")) lean = 1;
        else if (!strcmp(argv[i], "--fscheck")) check = 1;
        else {
            fprintf(stderr, "usage: floor --dir DIR [--jobs N] [--threads T] [--lean] [--reply-bytes B] [--max-seconds S] | floor --fscheck --dir DIR [--files N]\n");
            return 2;
        }
    }
    if (!dir || njobs < 1 || nthreads < 1 || nthreads > 64 || reply_bytes < 1 || nfiles < 1) {
        fprintf(stderr, "floor: bad arguments\n");
        return 2;
    }
    if (check) return fscheck(nfiles);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) die("mkdir", dir);
    dfd_tmp = open_sub("tmp");
    dfd_in = open_sub("incoming");
    dfd_act = open_sub("active");
    dfd_done = open_sub("done");
    close(open_sub("failed"));
    pthread_t th[64];
    thr_t ts[64];
    memset(ts, 0, sizeof ts);
    double t0 = mono();
    if (max_seconds > 0) deadline = t0 + max_seconds;
    for (int i = 0; i < nthreads; i++) { ts[i].tid = i; pthread_create(&th[i], NULL, run, &ts[i]); }
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double el = mono() - t0;
    int done = 0;
    for (int i = 0; i < nthreads; i++) done += ts[i].jobs;
    njobs = done > 0 ? done : 1;
    printf("{\"jobs\":%d,\"threads\":%d,\"lean\":%s,\"seconds\":%.4f,\"jobs_per_s\":%.1f,\"us_per_job\":%.1f,\"steps_us\":{", njobs, nthreads,
           lean ? "true" : "false", el, njobs / el, el * 1e6 / njobs);
    for (int s = 0; s < NSTEP; s++) {
        double sum = 0;
        for (int i = 0; i < nthreads; i++) sum += ts[i].step[s];
        printf("%s\"%s\":%.1f", s ? "," : "", step_names[s], sum * 1e6 / njobs);
    }
    printf("}}\n");
    return 0;
}
