/* daemon/cmd_parse.c - `feedd parse FILE...`: every entry of every file as
 * one JSON object per line, then one line per file. For debugging feeds
 * and for comparing feedd's parser with others. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
};

/* Output is written to stdout in pieces of about this size. */
#define CMD_PARSE_FLUSH (64u << 10)

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
    return c->out.len >= CMD_PARSE_FLUSH ? out_flush(c) : 0;
}

/* ,"key": */
static int
put_key(struct feed_buf *b, const char *key)
{
    int rc;

    if ((rc = feed_buf_puts(b, ",\"")) != 0 ||
        (rc = feed_buf_puts(b, key)) != 0)
        return rc;
    return feed_buf_puts(b, "\":");
}

static int
put_date(struct feed_buf *b, const char *key, int64_t t)
{
    char date[FEED_DATE_LEN + 1];
    int rc;

    if ((rc = put_key(b, key)) != 0)
        return rc;
    if (t == FEED_TIME_NONE)
        return feed_buf_puts(b, "null");
    return feed_buf_printf(b, "\"%s\"", feed_date_format(t, date));
}

/* A string the parser gave: valid UTF-8. */
static int
put_str(struct feed_buf *b, const char *key, const char *val)
{
    int rc;

    if ((rc = put_key(b, key)) != 0)
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
        put_str(b, "feed_title", info->title) || put_str(b, "guid", e->guid) ||
        put_str(b, "id", id) || put_str(b, "link", e->link) ||
        put_str(b, "title", e->title) ||
        put_date(b, "published", e->published) ||
        put_date(b, "updated", e->updated) || put_str(b, "author", e->author) ||
        put_str(b, "summary", e->summary) ||
        put_str(b, "content", e->content) || put_str(b, "image", e->image) ||
        put_lists(b, e) || feed_buf_puts(b, "}\n")) {
        b->len = start; /* no half line */
        return -1;
    }
    return b->len >= CMD_PARSE_FLUSH ? out_flush(c) : 0;
}

/* Pushes what fd holds through c's parser as the daemon pushes a body
 * from the network: in pieces of chunk bytes, or as many as a read gives
 * when chunk is 0. NULL, or why it stopped. */
static const char *
parse_fd(struct parse_ctx *c, int fd, size_t chunk)
{
    char buf[65536];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        size_t off = 0;
        int rc;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return strerror(errno);
        do {
            size_t k = (size_t)n - off;

            if (chunk && k > chunk)
                k = chunk;
            rc = feed_parser_push(c->parser, buf + off, k, n == 0);
            off += k;
        } while (rc == 0 && off < (size_t)n);
        if (rc != 0)
            return feed_parser_error(c->parser);
        if (n == 0)
            return NULL;
    }
}

/* Parses one file; prints its entries and its file line, and on stderr
 * what the parser's limits dropped (not an error) and why it failed. 0
 * when the file parsed cleanly. */
static int
parse_file(const char *path, const char *charset, size_t chunk,
           struct parse_ctx *c)
{
    const struct feed_info *fi;
    const char *err;
    char note[256];
    int fd;

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
    } else {
        err = parse_fd(c, fd, chunk);
        close(fd);
    }
    fi = feed_parser_info(c->parser);
    feed_buf_reset(&c->line);
    if (feed_buf_puts(&c->line, "{\"file\":") == 0 &&
        feed_buf_json(&c->line, path) == 0 &&
        feed_buf_printf(&c->line,
                        ",\"format\":\"%s\",\"entries\":%zu,"
                        "\"encoding\":\"%s\",\"bad_dates\":%zu,"
                        "\"skipped\":%zu,\"error\":",
                        feed_format_name(fi->format),
                        feed_parser_entries(c->parser),
                        fi->encoding ? fi->encoding : "", fi->bad_dates,
                        fi->over_entries + fi->big_entries) == 0 &&
        feed_buf_json(&c->line, err) == 0 &&
        feed_buf_puts(&c->line, "}\n") == 0)
        (void)out_write(c, c->line.data, c->line.len);
    if (feed_parser_limits_note(c->parser, note, sizeof(note)))
        fprintf(stderr, "feedd: %s: %s\n", path, note);
    if (err)
        fprintf(stderr, "feedd: %s: %s\n", path, err);
    return err ? -1 : 0;
}

static const char cmd_parse_usage[] =
    "usage: feedd parse [--charset NAME] [--chunk BYTES] FILE...\n";

/* --chunk's value: 1 to 1 GiB. 0, or -1 when s is not one. */
static int
cmd_parse_chunk(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > (1u << 30))
        return -1;
    *out = (size_t)v;
    return 0;
}

int
cmd_parse(int argc, char **argv)
{
    static const struct option opts[] = {
        {"charset", required_argument, NULL, 'c'},
        {"chunk", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct parse_ctx c;
    const char *charset = NULL;
    size_t chunk = 0;
    int i, opt, failed = 0;

    opterr = 0; /* our messages, one line each */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            charset = optarg;
            break;
        case 'k':
            if (cmd_parse_chunk(optarg, &chunk) != 0) {
                fprintf(stderr,
                        "feedd parse: --chunk wants a number of "
                        "bytes from 1 to 1073741824, not \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(cmd_parse_usage, stdout);
            return 0;
        case ':':
            fprintf(stderr, "feedd parse: %s needs a value\n",
                    argv[optind - 1]);
            return 2;
        default:
            if (optopt != 0)
                fprintf(stderr, "feedd parse: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "feedd parse: unknown option %s\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs(cmd_parse_usage, stderr);
        return 2;
    }
    memset(&c, 0, sizeof(c));
    feed_buf_init(&c.line, 0);
    feed_buf_init(&c.out, 0);
    for (i = optind; i < argc; i++)
        if (parse_file(argv[i], charset, chunk, &c) != 0)
            failed = 1;
    if (out_flush(&c) != 0) {
        fprintf(stderr, "feedd: cannot write the output: %s\n",
                strerror(errno));
        failed = 1;
    }
    feed_parser_free(c.parser);
    feed_buf_free(&c.line);
    feed_buf_free(&c.out);
    return failed;
}
