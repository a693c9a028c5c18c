/* tests/bench/store_bench.c - how the store scales with its size.
 *
 *     bench_store DIR N [BYTES]
 *
 * makes a store of N items of about BYTES bytes of JSON each (default
 * 1000) in DIR, which must not exist yet, committed in batches of 100,
 * then measures, one line per measure:
 *
 *   - add + commit per item (each commit fdatasyncs), and the medians
 *     of the batches;
 *   - store_recent() of the newest 1000 items and of all of them, the
 *     median of 5 (every record read back, checked and decoded);
 *   - store_open() through items/index, the median of 5;
 *   - the peak RSS (ru_maxrss, from wait4()) of a child process that only
 *     opens the store, beside one that opens nothing;
 *   - store_lookup() per ID, of IDs stored and IDs not stored;
 *   - store_open() without the index (the full scan and the rebuild);
 *   - store_compact() keeping the newest half.
 *
 * The RSS children are forked at the start, while this process is still
 * small, and wait on a pipe: a child forked later would start with the
 * pages of the store this process had open (Linux carries the peak over
 * fork and exec). Not run by ctest. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define BATCH 100
#define OPENS 5
#define RECENT 1000

static const char *const words[] = {
    "kernel",     "release",    "security",    "update",     "network",
    "driver",     "memory",     "scheduler",   "patch",      "review",
    "the",        "of",         "and",         "a",          "to",
    "in",         "is",         "for",         "project",    "community",
    "maintainer", "filesystem", "performance", "regression", "debian",
    "fedora",     "rust",       "python",      "compiler",   "toolchain",
    "browser",    "protocol",   "standard",    "draft",      "meeting",
};
#define NWORDS (sizeof words / sizeof words[0])

static uint64_t
mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Words from the generator state *r into buf until it holds len bytes. */
static void
text(char *buf, size_t len, uint64_t *r)
{
    size_t n = 0, w;

    while (n < len) {
        *r = mix(*r);
        w = strlen(words[*r % NWORDS]);
        if (n + w + 1 > len)
            break;
        memcpy(buf + n, words[*r % NWORDS], w);
        n += w;
        buf[n++] = ' ';
    }
    buf[n ? n - 1 : 0] = '\0';
}

/* The ID of item i (of a second, disjoint set when absent is set). */
static void
make_id(char id[FEED_ID_LEN + 1], uint64_t i, int absent)
{
    snprintf(id, FEED_ID_LEN + 1, "%016" PRIx64, mix(i * 2 + (absent ? 1 : 0)));
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* store_recent()'s callback: counts the items. */
static int
count_item(const struct feed_item *it, void *arg)
{
    size_t *n = arg;

    (void)it;
    (*n)++;
    return 0;
}

/* store_open() and store_load(): the store as `feedd run` has it. */
static struct store *
open_or_die(const char *dir)
{
    char err[256];
    struct store *s = store_open(dir, err, sizeof err);

    if (s == NULL) {
        fprintf(stderr, "bench_store: %s\n", err);
        exit(1);
    }
    if (store_load(s) != 0) {
        fprintf(stderr, "bench_store: %s\n", store_error(s));
        exit(1);
    }
    return s;
}

/* The child side of an RSS measure: waits for a byte on fd, then execs
 * this program to open dir (or not, when dir is NULL). */
static void
child_wait_exec(int fd, const char *self, const char *dir)
{
    char c;

    if (read(fd, &c, 1) != 1)
        _exit(0);
    if (dir != NULL)
        execl(self, self, "--open", dir, (char *)NULL);
    else
        execl(self, self, "--none", (char *)NULL);
    _exit(127);
}

/* Forks a child that waits on a pipe; *wfd is the pipe's write end. */
static pid_t
fork_waiting(const char *self, const char *dir, int *wfd)
{
    int p[2];
    pid_t pid;

    if (pipe(p) != 0 || (pid = fork()) < 0) {
        perror("bench_store: fork");
        exit(1);
    }
    if (pid == 0) {
        close(p[1]);
        child_wait_exec(p[0], self, dir);
    }
    close(p[0]);
    *wfd = p[1];
    return pid;
}

/* Lets the child go and returns its peak RSS in KiB. */
static long
child_rss(pid_t pid, int wfd)
{
    struct rusage ru;
    int st;

    if (write(wfd, "x", 1) != 1 || wait4(pid, &st, 0, &ru) != pid ||
        !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_store: the RSS child failed\n");
        exit(1);
    }
    close(wfd);
    return ru.ru_maxrss;
}

static uint64_t
dir_bytes(const char *dir, const char *suffix, int *files)
{
    char p[4096];
    uint64_t total = 0;
    struct stat st;
    int no;

    *files = 0;
    if (suffix == NULL) {
        snprintf(p, sizeof p, "%s/items/index", dir);
        return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    for (no = 1;; no++) {
        snprintf(p, sizeof p, "%s/items/%06d%s", dir, no, suffix);
        if (stat(p, &st) != 0)
            break;
        total += (uint64_t)st.st_size;
        (*files)++;
    }
    return total;
}

int
main(int argc, char **argv)
{
    char self[4096], idx[4096];
    char title[96], link[128], summary[256], *content;
    double t0, t_add = 0, t_commit = 0, times[OPENS], b_add = 0;
    double *adds, *commits;
    size_t nb = 0, recent_n = 0;
    struct feed_item it;
    struct store *s;
    uint64_t n, i, r, h, found = 0, bytes;
    size_t rec_bytes = 1000, clen;
    char(*ids)[FEED_ID_LEN + 1];
    long rss_open, rss_none;
    int wopen, wnone, k, files;
    pid_t popen, pnone;
    char *w;

    if (argc == 3 && strcmp(argv[1], "--open") == 0) {
        s = open_or_die(argv[2]);
        store_close(s);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--none") == 0)
        return 0;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_store DIR N [BYTES]\n");
        return 2;
    }
    n = strtoull(argv[2], NULL, 10);
    if (argc == 4)
        rec_bytes = strtoul(argv[3], NULL, 10);
    if (n == 0 || rec_bytes < 400) {
        fprintf(stderr, "bench_store: N > 0 and BYTES >= 400\n");
        return 2;
    }
    if (mkdir(argv[1], 0755) != 0) {
        fprintf(stderr, "bench_store: %s: %s (it must not exist)\n", argv[1],
                strerror(errno));
        return 1;
    }
    k = (int)readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0) {
        perror("bench_store: /proc/self/exe");
        return 1;
    }
    self[k] = '\0';
    popen = fork_waiting(self, argv[1], &wopen);
    pnone = fork_waiting(self, NULL, &wnone);

    /* Fixed keys take ~330 bytes of JSON; the content fills the rest. */
    clen = rec_bytes - 330 - sizeof title - sizeof link / 2 - 180;
    if ((content = malloc(clen + 1)) == NULL) {
        perror("bench_store");
        return 1;
    }
    adds = malloc((n / BATCH + 1) * sizeof *adds);
    commits = malloc((n / BATCH + 1) * sizeof *commits);
    if (adds == NULL || commits == NULL) {
        perror("bench_store");
        return 1;
    }
    s = open_or_die(argv[1]);
    r = 42;
    for (i = 0; i < n; i++) {
        memset(&it, 0, sizeof it);
        make_id(it.id, i, 0);
        text(title, 60, &r);
        text(summary, 180, &r);
        text(content, clen, &r);
        snprintf(link, sizeof link,
                 "https://news.example.org/2024/05/%" PRIu64 "-%.40s", i,
                 title);
        it.feed = "example-news";
        it.feed_url = "https://news.example.org/feed.xml";
        it.stored = 1700000000 + (int64_t)i;
        it.changed = FEED_TIME_NONE;
        it.hash = mix(i);
        it.entry.guid = link;
        it.entry.link = link;
        it.entry.title = title;
        it.entry.author = "A. Writer";
        it.entry.summary = summary;
        it.entry.content = content;
        it.entry.published = 1700000000 + (int64_t)(mix(i) % 100000000);
        it.entry.updated = FEED_TIME_NONE;
        t0 = now_s();
        if (store_add(s, &it) != 0) {
            fprintf(stderr, "bench_store: store_add failed\n");
            return 1;
        }
        t_add += now_s() - t0;
        b_add += now_s() - t0;
        if ((i + 1) % BATCH == 0 || i + 1 == n) {
            t0 = now_s();
            if (store_commit(s) != 0) {
                fprintf(stderr, "bench_store: %s\n", store_error(s));
                return 1;
            }
            t_commit += now_s() - t0;
            if ((i + 1) % BATCH == 0) {
                adds[nb] = b_add / BATCH;
                commits[nb++] = (now_s() - t0) / BATCH;
            }
            b_add = 0;
        }
    }
    store_close(s);
    free(content);
    bytes = dir_bytes(argv[1], ".jsonl", &files);
    printf("store: %" PRIu64 " items, %.2f MB in %d segments (%.0f bytes per "
           "item), index %.2f MB\n",
           n, (double)bytes / 1e6, files, (double)bytes / (double)n,
           (double)dir_bytes(argv[1], NULL, &k) / 1e6);
    printf("add+commit: %.2f us per item (add %.2f, commit %.2f; batches "
           "of %d, one fdatasync each)\n",
           (t_add + t_commit) * 1e6 / (double)n, t_add * 1e6 / (double)n,
           t_commit * 1e6 / (double)n, BATCH);
    if (nb > 0) {
        qsort(adds, nb, sizeof *adds, cmp_double);
        qsort(commits, nb, sizeof *commits, cmp_double);
        printf("add, commit: medians of %zu batches %.2f us, %.2f us per "
               "item\n",
               nb, adds[nb / 2] * 1e6, commits[nb / 2] * 1e6);
    }
    free(adds);
    free(commits);

    for (k = 0; k < OPENS; k++) {
        t0 = now_s();
        s = open_or_die(argv[1]);
        times[k] = now_s() - t0;
        if (store_count(s) != n || (w = store_warnings(s)) != NULL) {
            fprintf(stderr, "bench_store: open: %zu items, warnings: %s\n",
                    store_count(s), w ? w : "none");
            return 1;
        }
        store_close(s);
    }
    qsort(times, OPENS, sizeof *times, cmp_double);
    printf("open (index): median %.3f s of %d (min %.3f, max %.3f)\n",
           times[OPENS / 2], OPENS, times[0], times[OPENS - 1]);

    s = open_or_die(argv[1]);
    for (k = 0; k < 2; k++) {
        size_t want = k == 0 && n > RECENT ? RECENT : (size_t)n;
        int j;

        for (j = 0; j < OPENS; j++) {
            recent_n = 0;
            t0 = now_s();
            if (store_recent(s, want, count_item, &recent_n) != 0 ||
                recent_n != want) {
                fprintf(stderr, "bench_store: recent: %zu of %zu\n", recent_n,
                        want);
                return 1;
            }
            times[j] = now_s() - t0;
        }
        qsort(times, OPENS, sizeof *times, cmp_double);
        printf("recent %zu: median %.2f us per item of %d (min %.2f, max "
               "%.2f)\n",
               want, times[OPENS / 2] * 1e6 / (double)want, OPENS,
               times[0] * 1e6 / (double)want,
               times[OPENS - 1] * 1e6 / (double)want);
    }
    store_close(s);

    rss_open = child_rss(popen, wopen);
    rss_none = child_rss(pnone, wnone);
    printf("open peak RSS: %.1f MB (a child that opens nothing: %.1f MB; "
           "%.0f bytes per item)\n",
           (double)rss_open / 1024, (double)rss_none / 1024,
           (double)(rss_open - rss_none) * 1024 / (double)n);

    if ((ids = malloc(n * sizeof *ids)) == NULL) {
        perror("bench_store");
        return 1;
    }
    s = open_or_die(argv[1]);
    for (i = 0; i < n; i++)
        make_id(ids[i], mix(i) % n, 0);
    t0 = now_s();
    for (i = 0; i < n; i++)
        found += store_lookup(s, ids[i], &h) == 1 && h != 0;
    times[0] = now_s() - t0;
    for (i = 0; i < n; i++)
        make_id(ids[i], i, 1);
    t0 = now_s();
    for (i = 0; i < n; i++)
        found += store_lookup(s, ids[i], &h) == 1;
    times[1] = now_s() - t0;
    if (found != n) {
        fprintf(stderr,
                "bench_store: %" PRIu64 " lookups found, not %" PRIu64 "\n",
                found, n);
        return 1;
    }
    printf("lookup: %.0f ns per stored ID, %.0f ns per absent ID (random "
           "order)\n",
           times[0] * 1e9 / (double)n, times[1] * 1e9 / (double)n);
    store_close(s);
    free(ids);

    snprintf(idx, sizeof idx, "%s/items/index", argv[1]);
    if (unlink(idx) != 0) {
        perror(idx);
        return 1;
    }
    t0 = now_s();
    s = open_or_die(argv[1]);
    times[0] = now_s() - t0;
    store_close(s);
    t0 = now_s();
    s = open_or_die(argv[1]);
    times[1] = now_s() - t0;
    printf("open without the index: %.3f s (scan and rebuild); the next "
           "open %.3f s\n",
           times[0], times[1]);

    t0 = now_s();
    if (store_compact(s, 0, 0, (size_t)(n / 2 ? n / 2 : 1)) != 0) {
        fprintf(stderr, "bench_store: compact: %s\n", store_error(s));
        return 1;
    }
    times[0] = now_s() - t0;
    printf("compact (keep the newest half): %.3f s, %zu items left\n", times[0],
           store_count(s));
    store_close(s);
    return 0;
}
