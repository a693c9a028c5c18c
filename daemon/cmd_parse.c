/* daemon/cmd_parse.c - `feedd parse FILE...`: every entry of every file as
 * one JSON object per line, then one line per file. For debugging feeds
 * and for comparing feedd's parser with others. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"
#include "feeds/parse.h"

struct parse_ctx {
    const char *file;
    struct feed_parser *parser;
    struct feed_buf line;
    struct feed_buf out; /* what goes to stdout, written in big pieces */
    char *whole; /* the file, when it is read whole */
    size_t whole_len, whole_cap;
    int failed;
};

#define OUT_FLUSH (64u << 10)
/* Files up to the parser's size limit are read whole (feeds.h: pushed in
 * one call, they are not copied again); bigger ones in chunks, so that
 * the entries before the limit still come out. */
#define WHOLE_MAX (32u << 20)

/* Sends the buffered output to stdout. -1 when stdout fails. */
static int
out_flush(struct parse_ctx *c)
{
    const char *p = c->out.data;
    size_t n = c->out.len;

    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    feed_buf_reset(&c->out);
    return 0;
}

static int
out_write(struct parse_ctx *c, const char *p, size_t n)
{
    if (feed_buf_append(&c->out, p, n) != 0)
        return -1;
    return c->out.len >= OUT_FLUSH ? out_flush(c) : 0;
}

/* ,"key": as a literal and its length, for put_date() and put_str(). */
#define KEY(k) ",\"" k "\":", sizeof(",\"" k "\":") - 1

static int
put_date(struct feed_buf *b, const char *key, size_t klen, int64_t t)
{
    char date[FEED_DATE_LEN + 3];
    int rc;

    if ((rc = feed_buf_append(b, key, klen)) != 0)
        return rc;
    if (t == FEED_TIME_NONE)
        return feed_buf_append(b, "null", 4);
    date[0] = '"';
    feed_date_format(t, date + 1);
    date[FEED_DATE_LEN + 1] = '"';
    return feed_buf_append(b, date, FEED_DATE_LEN + 2);
}

/* A string the parser gave: valid UTF-8. */
static int
put_str(struct feed_buf *b, const char *key, size_t klen, const char *val)
{
    int rc;

    if ((rc = feed_buf_append(b, key, klen)) != 0)
        return rc;
    return feed_buf_json(b, val);
}

/* "enclosures": [{"url", "type", "length"}], "categories": [...] */
static int
put_lists(struct feed_buf *b, const struct feed_entry *e)
{
    size_t i;

    if (feed_buf_puts(b, ",\"enclosures\":[") != 0)
        return -1;
    for (i = 0; i < e->nenclosures; i++) {
        const struct feed_enclosure *x = &e->enclosures[i];

        if (feed_buf_puts(b, i ? ",{\"url\":" : "{\"url\":") ||
            feed_buf_json(b, x->url) || feed_buf_puts(b, ",\"type\":") ||
            feed_buf_json(b, x->type) ||
            (x->length >= 0
                 ? feed_buf_printf(b, ",\"length\":%lld}", (long long)x->length)
                 : feed_buf_puts(b, ",\"length\":null}")))
            return -1;
    }
    if (feed_buf_puts(b, "],\"categories\":[") != 0)
        return -1;
    for (i = 0; i < e->ncategories; i++)
        if ((i && feed_buf_puts(b, ",")) || feed_buf_json(b, e->categories[i]))
            return -1;
    return feed_buf_puts(b, "]");
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct parse_ctx *c = arg;
    const struct feed_info *info = feed_parser_info(c->parser);
    char id[FEED_ID_LEN + 1];
    /* Written straight into the output buffer: no copy per line. */
    struct feed_buf *b = &c->out;
    size_t start = b->len;

    if (feed_entry_id(e, c->file, FEED_ID_AUTO, id) < 0)
        return -1;
    if (feed_buf_puts(b, "{\"file\":") || feed_buf_json(b, c->file) ||
        put_str(b, KEY("feed_title"), info->title) ||
        put_str(b, KEY("guid"), e->guid) || put_str(b, KEY("id"), id) ||
        put_str(b, KEY("link"), e->link) ||
        put_str(b, KEY("title"), e->title) ||
        put_date(b, KEY("published"), e->published) ||
        put_date(b, KEY("updated"), e->updated) ||
        put_str(b, KEY("author"), e->author) ||
        put_str(b, KEY("summary"), e->summary) ||
        put_str(b, KEY("content"), e->content) ||
        put_str(b, KEY("image"), e->image) || put_lists(b, e) ||
        feed_buf_puts(b, "}\n")) {
        b->len = start; /* no half line */
        return -1;
    }
    return b->len >= OUT_FLUSH ? out_flush(c) : 0;
}

/* Reads a regular file of up to WHOLE_MAX bytes into c->whole: 0, or -1
 * (for a pipe, a bigger file, an error) to read it in chunks instead. */
static int
read_whole(int fd, struct parse_ctx *c)
{
    struct stat st;
    size_t have = 0, room;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (unsigned long long)st.st_size > WHOLE_MAX)
        return -1;
    /* A byte more than the size says, to see the end of the file. */
    room = (size_t)st.st_size + 1;
    if (room > c->whole_cap) {
        char *p = realloc(c->whole, room);

        if (p == NULL)
            return -1;
        c->whole = p;
        c->whole_cap = room;
    }
    for (;;) {
        ssize_t n = read(fd, c->whole + have, room - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || have + (size_t)n == room)
            break; /* an error, or the file grew: chunks it is */
        if (n == 0) {
            c->whole_len = have;
            return 0;
        }
        have += (size_t)n;
    }
    (void)lseek(fd, 0, SEEK_SET);
    return -1;
}

/* Parses one file; prints its entries and its file line. 0 when the file
 * parsed cleanly. */
static int
parse_file(const char *path, const char *charset, size_t chunk,
           struct parse_ctx *c)
{
    char buf[65536];
    const char *err = NULL;
    ssize_t n;
    int fd, rc = 0;

    c->file = path;
    /* One parser for all the files, reset between them: its buffers are
     * reused. No base: a local file's relative links point nowhere a
     * reader can follow, so they stay as written. */
    if (c->parser == NULL)
        c->parser = feed_parser_new(NULL, NULL, on_entry, c);
    else if (feed_parser_reset(c->parser, NULL) != 0) {
        feed_parser_free(c->parser);
        c->parser = NULL;
    }
    if (c->parser == NULL || feed_parser_charset(c->parser, charset) != 0) {
        fprintf(stderr, "feedd: out of memory\n");
        return -1;
    }
    if ((fd = open(path, O_RDONLY)) < 0) {
        err = strerror(errno);
    } else if (chunk == 0 && read_whole(fd, c) == 0) {
        /* One push with last set: the parser need not copy it. */
        if (feed_parser_push(c->parser, c->whole, c->whole_len, 1) != 0)
            err = feed_parser_error(c->parser);
        close(fd);
    } else {
        /* Streamed: in pieces of chunk bytes (as many as a read gives
         * when 0), as the daemon gets a body from the network. */
        for (;;) {
            size_t off = 0;

            n = read(fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                err = strerror(errno);
                break;
            }
            do {
                size_t k = (size_t)n - off;

                if (chunk && k > chunk)
                    k = chunk;
                rc = feed_parser_push(c->parser, buf + off, k, n == 0);
                off += k;
            } while (rc == 0 && off < (size_t)n);
            if (rc != 0) {
                err = feed_parser_error(c->parser);
                break;
            }
            if (n == 0)
                break;
        }
        close(fd);
    }
    feed_buf_reset(&c->line);
    if (feed_buf_puts(&c->line, "{\"file\":") == 0 &&
        feed_buf_json(&c->line, path) == 0 &&
        feed_buf_printf(&c->line, ",\"format\":\"%s\",\"entries\":%zu,"
                                  "\"encoding\":\"%s\",\"bad_dates\":%zu,"
                                  "\"error\":",
                        feed_format_name(feed_parser_info(c->parser)->format),
                        feed_parser_entries(c->parser),
                        feed_parser_info(c->parser)->encoding
                            ? feed_parser_info(c->parser)->encoding
                            : "",
                        feed_parser_info(c->parser)->bad_dates) == 0 &&
        feed_buf_json(&c->line, err) == 0 &&
        feed_buf_puts(&c->line, "}\n") == 0)
        (void)out_write(c, c->line.data, c->line.len);
    if (err)
        fprintf(stderr, "feedd: %s: %s\n", path, err);
    return err ? -1 : 0;
}

int
cmd_parse(int argc, char **argv)
{
    struct parse_ctx c;
    const char *charset = NULL;
    size_t chunk = 0;
    int i, failed = 0, files = 0;

    memset(&c, 0, sizeof(c));
    feed_buf_init(&c.line, 0);
    feed_buf_init(&c.out, 0);
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--charset") == 0 && i + 1 < argc) {
            charset = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);

            if (*end != '\0' || v == 0 || v > (1u << 30) ||
                argv[i][0] == '-') {
                fprintf(stderr, "feedd: --chunk wants a number of bytes "
                                "from 1 to 1073741824, not \"%s\"\n",
                        argv[i]);
                return 2;
            }
            chunk = (size_t)v;
            continue;
        }
        files++;
        if (parse_file(argv[i], charset, chunk, &c) != 0)
            failed = 1;
    }
    if (out_flush(&c) != 0) {
        fprintf(stderr, "feedd: cannot write the output: %s\n",
                strerror(errno));
        failed = 1;
    }
    feed_parser_free(c.parser);
    feed_buf_free(&c.line);
    feed_buf_free(&c.out);
    free(c.whole);
    if (files == 0) {
        fprintf(stderr, "usage: feedd parse [--charset NAME] [--chunk BYTES] "
                        "FILE...\n");
        return 2;
    }
    return failed;
}
