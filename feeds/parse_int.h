/* feeds/parse_int.h - the parser's state, shared by the files that make
 * up the parser (internal to feeds/):
 *
 *   parse.c     the public API: the push path, the byte layer below and
 *               expat's set-up
 *   grammar.c   what each RSS, Atom and CDF element means: a table of
 *               (context, vocabulary, name) -> (field, mode, handler)
 *   jsonfeed.c  JSON Feed, read whole with jansson
 *   fields.c    the entry being read: field capture, links, enclosures,
 *               categories, the entry handed to the caller
 *   ns.c        the scope of each open element: namespaces, xml:base
 *
 * Calls run one way: parse.c -> {grammar.c, jsonfeed.c} -> fields.c ->
 * ns.c. Nothing here is for use outside feeds/. */
#ifndef FEEDS_PARSE_INT_H
#define FEEDS_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/parse.h"

/* The namespaces the parser knows. */
enum ns {
    NS_NONE,
    NS_ATOM10,
    NS_ATOM03,
    NS_RSS090,
    NS_RSS10,
    NS_RSS11,
    NS_RSS20, /* http://backend.userland.com/rss2 and friends */
    NS_RDF,
    NS_DC,
    NS_DCTERMS,
    NS_CONTENT,
    NS_XHTML,
    NS_MEDIA,
    NS_ITUNES,
    NS_SY,
    NS_OTHER,
};

/* What vocabulary an element belongs to in the document at hand: the
 * document's own (Atom, or RSS of any version) or a module's. See
 * feed_ns_vocab(). V_ANY is for CDF, whose elements have no namespace. */
enum vocab {
    V_ANY,
    V_ATOM,
    V_RSS,
    V_DC,
    V_DCTERMS,
    V_CONTENT,
    V_MEDIA,
    V_ITUNES,
    V_SY,
    V_OTHER,
};

/* The fields of an entry. */
enum field {
    F_GUID,
    F_LINK,
    F_TITLE,
    F_AUTHOR,
    F_SUMMARY,
    F_CONTENT,
    F_PUBLISHED,
    F_UPDATED,
    F_CATEGORY,   /* one category's text, moved to the list when it ends */
    F_AUTHOR2,    /* itunes:author: used when nothing else names one */
    F_SUMMARY2,   /* itunes:summary, media:description: likewise */
    F_TITLE2,     /* dc:title, media:title: likewise */
    F_SCRATCH,    /* a repeated element: read, then dropped */
    F_FEED_TITLE, /* the feed's own, outside any entry */
    F_FEED_LINK,
    F_FEED_AUTHOR,
    F_FEED_HUB,  /* <link rel="hub">: the first one (W3C WebSub §4) */
    F_FEED_SELF, /* <link rel="self">: the first one */
    /* When to ask again (struct feed_info's schedule hints): each read
     * when it ends, then dropped. */
    F_FEED_TTL,
    F_FEED_HOUR, /* an hour of skipHours */
    F_FEED_DAY,  /* a day of skipDays */
    F_FEED_PERIOD,
    F_FEED_FREQUENCY,
    F_NFIELDS,
    F_NONE = F_NFIELDS,
};

/* How character data inside a captured field is kept. */
enum mode {
    M_TEXT,  /* child elements dropped, their text kept */
    M_HTML,  /* escaped HTML; child elements kept as markup */
    M_XHTML, /* Atom type="xhtml", or Atom 0.3 mode="xml" of an HTML
              * type: the children are the markup */
};

/* What is stripped from a title (plain text) when it is captured. */
enum cap_strip {
    STRIP_NONE,
    STRIP_MARKUP, /* typed HTML or XHTML: all markup */
    STRIP_TAGS,   /* no type: only HTML's element tags and comments */
};

enum input_mode { IN_UNKNOWN, IN_XML, IN_JSON };

#define MAX_ENCLOSURES 64
#define MAX_CATEGORIES 256
#define MAX_ENTITY_DECLS 64
/* The longest base URL relative links are resolved against. Each link
 * copies its base: a longer one (an xml:base of megabytes, with a link
 * in each of many entries) would turn a small document into gigabytes
 * of entries. Real bases are a few hundred bytes. */
#define MAX_BASE 4096
#define NONE ((size_t)-1)

/* One namespace declaration in force (ns.c). */
struct binding {
    size_t prefix; /* its prefix: an index into feed_parser.prefixes */
    size_t prev;   /* the binding of that prefix it hides, or NONE */
    enum ns ns;
    size_t depth; /* of the element that declared it */
};

/* A prefix ever declared in the document, a node of a balanced search
 * tree (ns.c): the lookup of an element's prefix costs the same however
 * many are declared. */
struct prefix {
    size_t name, len; /* the prefix: offset into feed_parser.names */
    size_t top;       /* the binding in force, or NONE */
    size_t left, right;
    int level;
};

/* An open element. */
struct level {
    char *base; /* xml:base in force (owned when set_base) */
    int set_base;
};

/* An enclosure while its entry is read: offsets into the arena. */
struct pending_enclosure {
    size_t url, url_len, type;
    int64_t length;
};

struct feed_parser {
    XML_Parser xp;
    struct feed_input *in;
    int in_use; /* in has had this document's first bytes */
    int ended;  /* the last push was made */
    enum input_mode mode;
    char *charset;
    struct feed_buf json; /* a JSON Feed, until it is whole */
    int entity_decls;
    struct feed_limits lim;
    feed_entry_fn *fn;
    void *arg;
    char *base_url;
    struct feed_url_base *ub; /* the base of the last URL resolved, split */

    struct feed_info info;
    enum ns root_ns;
    int is_atom; /* the document is Atom (a <feed> or <entry> root) */
    int is_cdf;  /* Microsoft's Channel Definition Format (CHANNEL/ITEM) */

    /* The open elements and the namespaces in force (ns.c). */
    struct level *levels;
    size_t depth, nlevels;
    struct binding *bind;
    size_t nbind, capbind;
    struct prefix *prefixes;
    size_t nprefixes, capprefixes, prefix_root;
    struct feed_buf names; /* the prefixes' text */

    /* The entry being read: its depth (0 when outside one) and fields. */
    size_t entry_depth;
    size_t container_depth; /* channel / feed: feed-level fields */
    struct feed_buf f[F_NFIELDS];
    int have[F_NFIELDS];
    int weak[F_NFIELDS]; /* filled from a weaker source: feed_cap_weak() */
    int link_rank;       /* how good the link in f[F_LINK] is */
    int entry_big;       /* a field of the entry went over max_field */
    int guid_is_permalink;
    size_t author_depth; /* inside an Atom <author> */
    size_t feed_author_depth;

    /* The entry's enclosures, categories and image: strings in arena. */
    struct feed_buf arena;
    struct pending_enclosure enc[MAX_ENCLOSURES];
    size_t nenc;
    size_t cat[MAX_CATEGORIES], cat_len[MAX_CATEGORIES];
    size_t ncat;
    size_t image;
    struct feed_enclosure out_enc[MAX_ENCLOSURES];
    const char *out_cat[MAX_CATEGORIES];

    /* The field being captured, if any. */
    enum field cap;
    enum mode cap_mode;
    size_t cap_depth;
    enum cap_strip cap_strip; /* what of a title's markup goes at the end */
    int cap_b64;              /* Atom 0.3 mode="base64": decode at the end */
    int cap_big;              /* it went over max_field: the rest is ignored */

    size_t bytes;
    size_t entries;
    int error;
    char errmsg[256];
    struct feed_buf tmp;
    struct feed_buf bad_date; /* the first date that did not read */
};

/* The first error of a document stops it: expat is told to stop, and
 * later errors (the consequences of the first) are not recorded. */
static inline void
set_error(struct feed_parser *p, int code, const char *msg)
{
    if (p->error)
        return;
    p->error = code;
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    XML_StopParser(p->xp, XML_FALSE);
}

/* The value of attribute name in expat's list, or NULL. */
static inline const char *
attr(const char **atts, const char *name)
{
    for (; atts && atts[0]; atts += 2)
        if (strcmp(atts[0], name) == 0)
            return atts[1];
    return NULL;
}

/* ---- grammar.c: expat's element handlers ---- */

void XMLCALL feed_grammar_start(void *p, const char *name, const char **atts);
void XMLCALL feed_grammar_end(void *p, const char *name);
/* 1 when the grammar's table is in the order its lookup needs (a unit
 * test asks). */
int feed_grammar_sorted(void);

/* ---- jsonfeed.c ---- */

/* Reads the whole JSON Feed in p->json, handing its entries on. 0 or the
 * parser's error. */
int feed_jsonfeed_parse(struct feed_parser *p);

/* ---- fields.c: the entry being read ---- */

/* Starts capturing the character data of the element just opened into
 * f, kept as m says. The first of repeated elements wins, unless it came
 * from a weaker source (feed_cap_weak()). */
void feed_cap_start(struct feed_parser *, enum field f, enum mode m);
/* The same for a weaker source of f: it fills f only when nothing has,
 * and anything stronger that comes later replaces it. */
void feed_cap_weak(struct feed_parser *, enum field f, enum mode m);
/* Character data of the captured field. */
void feed_cap_text(struct feed_parser *, const char *s, size_t n);
/* An element opened or closed inside the captured field: kept as markup
 * when the field is HTML, dropped when it is text. */
void feed_cap_open_tag(struct feed_parser *, const char *local,
                       const char **atts);
void feed_cap_close_tag(struct feed_parser *, const char *local);
/* Finishes the captured field when its element closes. */
void feed_cap_end(struct feed_parser *);

/* s into field f, replacing what it held; escape: as XML character
 * data. 0; FEED_E_TOOBIG when s is over max_field (as
 * feed_fields_error() says); or the error, which is also the parser's. */
int feed_fields_set(struct feed_parser *, enum field f, const char *s,
                    int escape);
/* What a failed append of rc to field f means: FEED_E_TOOBIG (the field
 * is over max_field) empties f and drops its entry when it is one of an
 * entry's (feed_fields_emit() counts it in info.big_entries) or the field
 * itself when it is the feed's own (info.big_feed_fields); any other
 * error is the parser's. Returns rc. */
int feed_fields_error(struct feed_parser *, enum field f, int rc);
/* A URL field made absolute against the base in force. 0 or
 * FEED_E_NOMEM. */
int feed_fields_absolutize(struct feed_parser *, struct feed_buf *b);
/* The base URL in force: xml:base, the feed's link, the document's. */
const char *feed_fields_base(const struct feed_parser *);
/* Points p->info at the feed-level fields after one of them changed. */
void feed_fields_sync_info(struct feed_parser *);
/* An Atom-style link (href, rel, type) into f, when it ranks at least
 * as well as the one f holds. 1 when it was taken, else 0. */
int feed_fields_link(struct feed_parser *, enum field f, const char **atts);
/* A feed-level link whose rel is "hub" or "self" (WebSub's discovery),
 * kept in F_FEED_HUB or F_FEED_SELF when it is the first of its kind:
 * 1 when atts is such a link (taken or not), else 0. */
int feed_fields_feed_rel(struct feed_parser *, const char **atts);
/* An enclosure, category or image of the entry being read. Repeats are
 * dropped; so is what does not fit (past MAX_ENCLOSURES, MAX_CATEGORIES);
 * one over max_field drops the entry, as a field would. */
void feed_fields_enclosure(struct feed_parser *, const char *url,
                           const char *type, const char *length);
void feed_fields_category(struct feed_parser *, const char *s, size_t n);
void feed_fields_image(struct feed_parser *, const char *url);
/* Forgets the entry's fields (not the feed's), ready for the next. */
void feed_fields_reset(struct feed_parser *);
/* Hands the entry read to the caller, unless a limit keeps it out: past
 * the first max_entries (info.over_entries), or with a field over
 * max_field (info.big_entries). Neither is an error. */
void feed_fields_emit(struct feed_parser *);

/* ---- ns.c: the open elements' scope ---- */

/* Opens an element: binds the namespaces it declares, resolves its name
 * to a namespace and local part (*local points into qname) and its
 * xml:base. 0 or FEED_E_NOMEM; the element is open either way. */
int feed_ns_enter(struct feed_parser *, const char *qname, const char **atts,
                  enum ns *ns, const char **local);
/* Closes the innermost element. */
void feed_ns_leave(struct feed_parser *);
/* href (CDF's BASE) as the innermost element's base, unless it has one.
 * 0 or FEED_E_NOMEM. */
int feed_ns_set_base(struct feed_parser *, const char *href);
/* The vocabulary of an element in ns, in the document read so far. */
enum vocab feed_ns_vocab(const struct feed_parser *, enum ns ns);
/* 1 for no namespace and RSS's own namespaces. */
int feed_ns_is_rss(enum ns ns);
/* Closes every open element (a new document), or frees it all. */
void feed_ns_clear(struct feed_parser *);
void feed_ns_free(struct feed_parser *);

#endif
