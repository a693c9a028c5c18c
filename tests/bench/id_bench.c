/* tests/bench/id_bench.c - what a stable ID costs per entry: the rule
 * chain (feed_entry_id) and the content hash that tells an edit
 * (feed_entry_hash), on entries shaped like real ones (slugged links,
 * URL guids, tracking parameters, plain guids, GUID-less entries).
 *
 *     bench_id [N]     N entries (default 200000), 5 rounds, median
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000, i;
    struct feed_entry *e = calloc(n, sizeof(*e));
    char(*links)[160] = calloc(n, sizeof(*links));
    char(*guids)[96] = calloc(n, sizeof(*guids));
    char(*titles)[96] = calloc(n, sizeof(*titles));
    double t_id[5], t_hash[5];
    char id[FEED_ID_LEN + 1];
    unsigned long sink = 0;
    int r;

    if (!e || !links || !guids || !titles)
        return 1;
    for (i = 0; i < n; i++) {
        switch (i % 4) {
        case 0: /* a slug ending in the article ID */
            snprintf(links[i], sizeof(links[i]),
                     "https://www.example-news.com/2024/05/17/"
                     "headline-words-for-story-number-a%06zu",
                     i);
            break;
        case 1: /* tracking parameters, a URL guid */
            snprintf(links[i], sizeof(links[i]),
                     "https://blog.example.org/posts/entry-%zu/"
                     "?utm_source=rss&utm_medium=feed",
                     i);
            snprintf(guids[i], sizeof(guids[i]),
                     "http://blog.example.org/?p=%zu", i);
            e[i].guid = guids[i];
            break;
        case 2: /* a plain guid */
            snprintf(links[i], sizeof(links[i]),
                     "https://site.example.net/about/this-page");
            snprintf(guids[i], sizeof(guids[i]), "tag:example.net,2024:%zu", i);
            e[i].guid = guids[i];
            break;
        default: /* a link alone */
            snprintf(links[i], sizeof(links[i]),
                     "https://EXAMPLE.com:443/news/item.php?id=x%zu#top", i);
        }
        snprintf(titles[i], sizeof(titles[i]), "Entry number %zu of the bench",
                 i);
        e[i].link = links[i];
        e[i].title = titles[i];
        e[i].summary = "A short summary of the kind feeds carry, a few "
                       "dozen words long, with <b>markup</b> in it.";
        e[i].published = 1715940000 + (int64_t)i;
        e[i].updated = FEED_TIME_NONE;
    }
    for (r = 0; r < 5; r++) {
        double t0 = now();

        for (i = 0; i < n; i++) {
            if (feed_entry_id(&e[i], "bench", FEED_ID_AUTO, id) < 0)
                return 1;
            sink += (unsigned char)id[0];
        }
        t_id[r] = now() - t0;
        t0 = now();
        for (i = 0; i < n; i++)
            sink += (unsigned long)feed_entry_hash(&e[i]);
        t_hash[r] = now() - t0;
    }
    qsort(t_id, 5, sizeof(double), cmp_double);
    qsort(t_hash, 5, sizeof(double), cmp_double);
    printf("id: %zu entries, median %.0f ns/entry (stable ID), %.0f "
           "ns/entry (content hash) [%lu]\n",
           n, t_id[2] / (double)n * 1e9, t_hash[2] / (double)n * 1e9,
           sink % 10);
    free(e);
    free(links);
    free(guids);
    free(titles);
    return 0;
}
