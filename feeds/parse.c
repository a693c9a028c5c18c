/* feeds/parse.c - the streaming feed parser: its public API, and expat
 * set up to read feeds from the web safely.
 *
 * Bytes go straight into expat as they arrive; each entry is handed to the
 * caller the moment its end tag closes, and its field buffers are reused
 * for the next one. What the elements mean is grammar.c's; the entry
 * being read is fields.c's; the namespaces in force are ns.c's
 * (parse_int.h says how they fit).
 *
 * Below expat sits feeds/input.c, which finds the encoding and hands on
 * clean UTF-8; a document whose first character is '{' is a JSON Feed,
 * read with jansson once it is whole (jsonfeed.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "entities.h"
#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "feeds/url.h"
#include "input.h"
#include "parse_int.h"

void
feed_limits_default(struct feed_limits *lim)
{
    lim->max_bytes = 32u << 20;
    lim->max_depth = 128;
    lim->max_field = 2u << 20;
    lim->max_entries = 10000;
}

/* n bytes as a limit is written: "2 MiB", "512 KiB" or "100 bytes". */
static const char *
size_str(size_t n, char *buf, size_t size)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, size, "%zu MiB", n >> 20);
    else if (n >= (1u << 10) && n % (1u << 10) == 0)
        snprintf(buf, size, "%zu KiB", n >> 10);
    else
        snprintf(buf, size, "%zu byte%s", n, n == 1 ? "" : "s");
    return buf;
}

const char *
feed_format_name(enum feed_format f)
{
    static const char *const names[] = {
        "unknown", "rss090", "rss091", "rss092", "rss093", "rss094", "rss10",
        "rss11",   "rss20",  "atom03", "atom10", "json10", "json11", "cdf",
    };

    if ((size_t)f >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[f];
}

/* A document may declare a few internal entities (some do, for a
 * repeated prefix); expat's amplification limit, set tight below, bounds
 * what they expand to. External entities are never read. */
static void XMLCALL
on_entity_decl(void *ud, const XML_Char *name, int is_param,
               const XML_Char *value, int value_length, const XML_Char *base,
               const XML_Char *system_id, const XML_Char *public_id,
               const XML_Char *notation)
{
    struct feed_parser *p = ud;

    (void)name;
    (void)is_param;
    (void)value;
    (void)base;
    (void)system_id;
    (void)public_id;
    (void)notation;
    if (++p->entity_decls > MAX_ENTITY_DECLS)
        set_error(p, FEED_E_LIMIT, "more than 64 entity declarations");
    else if (value_length > 4096)
        set_error(p, FEED_E_LIMIT, "an entity longer than 4096 bytes");
}

/* An entity the document uses without declaring it. expat calls this
 * rather than failing only because on_external_entity "read" an empty
 * external DTD: so &nbsp; and its kind, which feeds copy from HTML, are
 * read as HTML means them. */
static void XMLCALL
on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    struct feed_parser *p = ud;
    const char *utf8;
    char lit[80];

    if (is_param || p->error)
        return;
    utf8 = feed_html_entity(name);
    if (utf8 == NULL) {
        /* Unknown: kept as written, so nothing silently vanishes. */
        snprintf(lit, sizeof(lit), "&%.64s;", name);
        utf8 = lit;
    }
    feed_cap_text(p, utf8, strlen(utf8));
}

/* Every external entity, the DTD included, reads as empty: nothing is
 * ever fetched or opened. Parsing the empty text is what makes expat
 * treat undeclared entities as skipped instead of fatal. */
static int XMLCALL
on_external_entity(XML_Parser xp, const XML_Char *context, const XML_Char *base,
                   const XML_Char *system_id, const XML_Char *public_id)
{
    XML_Parser ep;
    enum XML_Status st;

    (void)base;
    (void)system_id;
    (void)public_id;
    ep = XML_ExternalEntityParserCreate(xp, context, NULL);
    if (ep == NULL)
        return XML_STATUS_ERROR;
    st = XML_Parse(ep, "", 0, 1);
    XML_ParserFree(ep);
    return st;
}

/* The handlers and limits of p's expat parser (again after a reset,
 * which clears them). */
static void
xml_setup(struct feed_parser *p)
{
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, feed_grammar_start, feed_grammar_end);
    XML_SetCharacterDataHandler(p->xp, NULL);
    XML_SetEntityDeclHandler(p->xp, on_entity_decl);
    XML_SetSkippedEntityHandler(p->xp, on_skipped_entity);
    XML_SetExternalEntityRefHandler(p->xp, on_external_entity);
    XML_SetParamEntityParsing(p->xp,
                              XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE);
    XML_UseForeignDTD(p->xp, XML_TRUE);
    /* Far below expat's defaults (100x once past 8 MiB): declared
     * entities may not expand a document more than fourfold once it has
     * produced 256 KiB. */
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(p->xp, 4.0f);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(p->xp, 256u << 10);
}

struct feed_parser *
feed_parser_new(const struct feed_limits *lim, const char *base_url,
                feed_entry_fn *fn, void *arg)
{
    struct feed_parser *p;
    int i;

    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (lim)
        p->lim = *lim;
    else
        feed_limits_default(&p->lim);
    p->info.max_entries = p->lim.max_entries;
    p->info.max_field = p->lim.max_field;
    p->fn = fn;
    p->arg = arg;
    p->cap = F_NONE;
    /* Only a web address anchors relative links: those of a local file
     * would point nowhere a reader can follow. */
    if (base_url &&
        (strncasecmp(base_url, "http://", 7) == 0 ||
         strncasecmp(base_url, "https://", 8) == 0) &&
        (p->base_url = strdup(base_url)) == NULL)
        goto fail;
    for (i = 0; i < F_NFIELDS; i++)
        feed_buf_init(&p->f[i], p->lim.max_field);
    feed_buf_init(&p->tmp, 0);
    feed_buf_init(&p->bad_date, 256);
    feed_buf_init(&p->arena, 0);
    feed_buf_init(&p->json, p->lim.max_bytes);
    feed_buf_init(&p->names, 0);
    p->prefix_root = NONE;
    p->image = NONE;
    /* feeds/input.c hands expat UTF-8 whatever the document declares. */
    p->xp = XML_ParserCreate("UTF-8");
    if (p->xp == NULL)
        goto fail;
    xml_setup(p);
    return p;
fail:
    feed_parser_free(p);
    return NULL;
}

/* Drops what the last document left in p, keeping the buffers. */
static void
parser_clear(struct feed_parser *p)
{
    feed_ns_clear(p);
    p->in_use = 0; /* the input layer stays, for its buffers */
    free(p->charset);
    p->charset = NULL;
    free(p->base_url);
    p->base_url = NULL;
}

/* Readies p to read a document from its start: what was read of one is
 * forgotten, the input, charset and base are not. */
static int
document_reset(struct feed_parser *p)
{
    int i;

    feed_ns_clear(p);
    if (XML_ParserReset(p->xp, "UTF-8") != XML_TRUE)
        return FEED_E_NOMEM;
    for (i = 0; i < F_NFIELDS; i++) {
        feed_buf_reset(&p->f[i]);
        p->have[i] = 0;
        p->weak[i] = 0;
    }
    feed_buf_reset(&p->tmp);
    feed_buf_reset(&p->bad_date);
    feed_buf_reset(&p->arena);
    feed_buf_reset(&p->json);
    memset(&p->info, 0, sizeof(p->info));
    p->info.max_entries = p->lim.max_entries;
    p->info.max_field = p->lim.max_field;
    p->mode = IN_UNKNOWN;
    p->entity_decls = 0;
    p->root_ns = NS_NONE;
    p->is_atom = p->is_cdf = 0;
    p->entry_depth = p->container_depth = 0;
    p->link_rank = p->guid_is_permalink = 0;
    p->entry_big = p->cap_big = 0;
    p->author_depth = p->feed_author_depth = 0;
    p->nenc = p->ncat = 0;
    p->image = NONE;
    p->cap = F_NONE;
    p->entries = 0;
    p->error = 0;
    p->errmsg[0] = '\0';
    xml_setup(p);
    return 0;
}

int
feed_parser_reset(struct feed_parser *p, const char *base_url)
{
    int rc;

    parser_clear(p);
    if ((rc = document_reset(p)) != 0)
        return rc;
    p->bytes = 0;
    p->ended = 0;
    if (base_url &&
        (strncasecmp(base_url, "http://", 7) == 0 ||
         strncasecmp(base_url, "https://", 8) == 0) &&
        (p->base_url = strdup(base_url)) == NULL)
        return FEED_E_NOMEM;
    return 0;
}

/* The whole document is over max_bytes: unlike the other limits, this
 * one fails it (its entries so far stay handed on). */
static int
too_large(struct feed_parser *p)
{
    char size[32];

    snprintf(p->errmsg, sizeof(p->errmsg),
             "the document is larger than the limit of %s",
             size_str(p->lim.max_bytes, size, sizeof(size)));
    p->error = FEED_E_LIMIT;
    XML_StopParser(p->xp, XML_FALSE);
    return p->error;
}

/* Hands UTF-8 to expat, an int's worth at a time. */
static int
xml_feed(struct feed_parser *p, const char *s, size_t n, int last)
{
    while (n > 0 || last) {
        int len = n > (1u << 30) ? 1 << 30 : (int)n;
        int fin = last && (size_t)len == n;

        if (XML_Parse(p->xp, s, len, fin) == XML_STATUS_ERROR) {
            if (!p->error) {
                enum XML_Error code = XML_GetErrorCode(p->xp);

                p->error = FEED_E_XML;
                snprintf(p->errmsg, sizeof(p->errmsg),
                         "line %lu, column %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(p->xp),
                         (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1,
                         XML_ErrorString(code));
            }
            return p->error;
        }
        s += len;
        n -= (size_t)len;
        if (fin)
            break;
    }
    return p->error;
}

/* feed_input_fn: clean UTF-8 from feeds/input.c. */
static int
on_input(const char *s, size_t n, int last, void *arg)
{
    struct feed_parser *p = arg;
    int rc;

    if (p->mode == IN_UNKNOWN && n > 0)
        p->mode = s[0] == '{' ? IN_JSON : IN_XML;
    if (p->mode == IN_JSON) {
        if ((rc = feed_buf_append(&p->json, s, n)) == FEED_E_TOOBIG)
            return too_large(p);
        if (rc != 0) {
            set_error(p, rc, "out of memory");
            return p->error;
        }
        return last ? feed_jsonfeed_parse(p) : 0;
    }
    if (p->mode == IN_UNKNOWN) {
        if (last)
            set_error(p, FEED_E_NOTFEED, "not a feed: the document is empty");
        return p->error;
    }
    return xml_feed(p, s, n, last);
}

int
feed_parser_charset(struct feed_parser *p, const char *charset)
{
    char *copy;

    if (p->in_use)
        return FEED_E_INVAL;
    copy = charset ? strdup(charset) : NULL;
    if (charset && copy == NULL)
        return FEED_E_NOMEM;
    free(p->charset);
    p->charset = copy;
    return 0;
}

int
feed_parser_base(struct feed_parser *p, const char *base_url)
{
    char *copy = NULL;

    if (p->in_use)
        return FEED_E_INVAL;
    if (base_url &&
        (strncasecmp(base_url, "http://", 7) == 0 ||
         strncasecmp(base_url, "https://", 8) == 0) &&
        (copy = strdup(base_url)) == NULL)
        return FEED_E_NOMEM;
    free(p->base_url);
    p->base_url = copy;
    return 0;
}

int
feed_parser_push(struct feed_parser *p, const char *s, size_t n, int last)
{
    int rc;

    if (p->error)
        return p->error;
    if (p->ended) {
        set_error(p, FEED_E_INVAL, "a push after the last");
        return p->error;
    }
    p->ended = last != 0;
    if (n > p->lim.max_bytes - p->bytes)
        return too_large(p);
    p->bytes += n;
    if (!p->in_use) {
        if (p->in == NULL)
            p->in = feed_input_new(p->charset, on_input, p);
        else if (feed_input_reset(p->in, p->charset) != 0) {
            feed_input_free(p->in);
            p->in = NULL;
        }
        p->in_use = 1;
        if (p->in == NULL) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return p->error;
        }
    }
    rc = feed_input_push(p->in, s, n, last);
    p->info.encoding = feed_input_encoding(p->in);
    if (rc != 0 && !p->error)
        set_error(p, rc,
                  rc == FEED_E_NOMEM ? "out of memory"
                                     : "cannot decode the document");
    if (p->error)
        return p->error;
    if (last && p->info.format == FEED_FORMAT_UNKNOWN)
        set_error(p, FEED_E_NOTFEED, "not a feed: no root element");
    return p->error;
}

const char *
feed_parser_error(const struct feed_parser *p)
{
    return p->errmsg;
}

const struct feed_info *
feed_parser_info(const struct feed_parser *p)
{
    return &p->info;
}

size_t
feed_parser_entries(const struct feed_parser *p)
{
    return p->entries;
}

int
feed_parser_limits_note(const struct feed_parser *p, char *buf, size_t size)
{
    const struct feed_info *fi = &p->info;
    char field[32];
    size_t len;

    if (size == 0)
        return 0;
    buf[0] = '\0';
    size_str(fi->max_field, field, sizeof(field));
    if (fi->over_entries > 0)
        snprintf(buf, size, "more than %zu entries, the first %zu were taken",
                 fi->max_entries, fi->max_entries);
    if (fi->big_entries > 0) {
        len = strlen(buf);
        snprintf(buf + len, size - len, "%s%zu entr%s skipped, a field over %s",
                 len ? "; " : "", fi->big_entries,
                 fi->big_entries == 1 ? "y" : "ies", field);
    }
    if (fi->big_feed_fields > 0) {
        len = strlen(buf);
        snprintf(buf + len, size - len, "%sthe feed's own %s over %s dropped",
                 len ? "; " : "", fi->big_feed_fields == 1 ? "field" : "fields",
                 field);
    }
    return fi->over_entries + fi->big_entries + fi->big_feed_fields > 0;
}

void
feed_parser_free(struct feed_parser *p)
{
    int i;

    if (p == NULL)
        return;
    if (p->xp)
        XML_ParserFree(p->xp);
    parser_clear(p);
    feed_input_free(p->in);
    feed_buf_free(&p->json);
    feed_buf_free(&p->arena);
    feed_buf_free(&p->bad_date);
    feed_ns_free(p);
    for (i = 0; i < F_NFIELDS; i++)
        feed_buf_free(&p->f[i]);
    feed_buf_free(&p->tmp);
    feed_url_base_free(p->ub);
    free(p);
}
