/* feeds/input.c - the byte layer's state machine. A document's first
 * bytes are held until its encoding is known (encoding.c); from then on
 * every chunk streams: through iconv when the document is not UTF-8, then
 * through the repairs (repair.c), to the receiver. */
#include "input.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "feeds/buf.h"
#include "repair.h"
#include "utf8.h"

enum state {
    S_SNIFF, /* holding the first bytes */
    S_UTF8,  /* UTF-8: straight to the repairs */
    S_ICONV, /* another encoding: iconv, then the repairs */
};

struct feed_input {
    feed_input_fn *fn;
    void *arg;
    char *charset;
    enum state state;
    struct feed_buf held; /* the first bytes, while sniffing */
    struct feed_encoding_conv conv;
    struct feed_repair repair;
    char encoding[48];
};

/* feed_encoding_fn: iconv's output, to the repairs. */
static int
repair_converted(const char *s, size_t n, int last, void *arg)
{
    struct feed_input *in = arg;

    return feed_repair_push(&in->repair, s, n, last, in->fn, in->arg);
}

static int
pass(struct feed_input *in, const char *s, size_t n, int last)
{
    if (in->state == S_ICONV)
        return feed_encoding_conv_push(&in->conv, s, n, last, repair_converted,
                                       in);
    return feed_repair_push(&in->repair, s, n, last, in->fn, in->arg);
}

/* Picks the encoding from the first bytes s[0..n) and sets up the
 * conversion. Returns how many leading bytes (a BOM) to drop. */
static size_t
start(struct feed_input *in, const char *s, size_t n)
{
    char name[48];
    size_t bom = feed_encoding_choose(in->charset, (const unsigned char *)s, n,
                                      name, sizeof(name));

    in->state = S_UTF8;
    snprintf(in->encoding, sizeof(in->encoding), "utf-8");
    if (*name && feed_encoding_conv_open(&in->conv, name) == 0) {
        in->state = S_ICONV;
        for (size_t i = 0; name[i]; i++)
            in->encoding[i] = (char)tolower((unsigned char)name[i]);
        in->encoding[strlen(name)] = '\0';
    }
    return bom;
}

struct feed_input *
feed_input_new(const char *charset, feed_input_fn *fn, void *arg)
{
    struct feed_input *in = calloc(1, sizeof(*in));

    if (in == NULL)
        return NULL;
    in->fn = fn;
    in->arg = arg;
    in->state = S_SNIFF;
    in->conv.cd = (iconv_t)-1;
    feed_buf_init(&in->held, 0);
    feed_buf_init(&in->conv.stage, 0);
    feed_repair_init(&in->repair);
    if (charset && *charset && (in->charset = strdup(charset)) == NULL) {
        free(in);
        return NULL;
    }
    return in;
}

int
feed_input_push(struct feed_input *in, const char *s, size_t n, int last)
{
    size_t bom;
    int rc;

    if (s == NULL)
        s = "";
    if (in->state != S_SNIFF)
        return pass(in, s, n, last);
    if (in->held.len + n < ENCODING_SNIFF && !last)
        return feed_buf_append(&in->held, s, n);
    /* Enough to decide: in place when the first chunk holds it all. */
    if (in->held.len > 0) {
        if ((rc = feed_buf_append(&in->held, s, n)) != 0)
            return rc;
        s = in->held.data;
        n = in->held.len;
    }
    bom = start(in, s, n);
    rc = pass(in, s + bom, n - bom, last);
    feed_buf_free(&in->held);
    return rc;
}

const char *
feed_input_encoding(const struct feed_input *in)
{
    return in->encoding;
}

int
feed_input_repaired(const struct feed_input *in)
{
    return in->repair.repaired || in->conv.replaced;
}

int
feed_input_reset(struct feed_input *in, const char *charset)
{
    feed_encoding_conv_close(&in->conv);
    in->conv.replaced = 0;
    feed_buf_reset(&in->held);
    feed_repair_reset(&in->repair);
    in->state = S_SNIFF;
    in->encoding[0] = '\0';
    free(in->charset);
    in->charset = NULL;
    if (charset && *charset && (in->charset = strdup(charset)) == NULL)
        return FEED_E_NOMEM;
    return 0;
}

void
feed_input_free(struct feed_input *in)
{
    if (in == NULL)
        return;
    feed_encoding_conv_close(&in->conv);
    feed_buf_free(&in->held);
    feed_repair_free(&in->repair);
    free(in->charset);
    free(in);
}
