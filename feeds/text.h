/* feeds/text.h - in-place edits of field text (internal to feeds/). */
#ifndef FEEDS_TEXT_H
#define FEEDS_TEXT_H

#include "feeds/buf.h"

/* White space off both ends. */
void feed_text_trim(struct feed_buf *);
/* Character references ("&#233;", "&#xe9;": digits only) and HTML
 * 4.01's named entities decoded; an unknown name, a code point that is
 * no Unicode scalar value, and a reference longer than 10 bytes from '&'
 * to ';' stay as written. UTF-8 is never longer than the reference it
 * replaces, so the text only shrinks. */
void feed_text_decode_entities(struct feed_buf *);
/* HTML to plain text: tags, comments and the bodies of scripts and
 * styles removed, then entities decoded. A '<' that no '>' follows, and
 * what follows a script or style that is never closed, stay text. */
void feed_text_strip_markup(struct feed_buf *);
/* The same for text of no type, where "vector<bool>" is text: only the
 * tags of HTML's own elements (HTML 4.01 and 5, in any case: "<b>",
 * "</p>", "<br/>", "<a href=...>") and comments go, with what scripts
 * and styles hold; any other '<' stays text. */
void feed_text_strip_tags(struct feed_buf *);
/* The relative URLs in HTML's links and embeds (href, src, srcset,
 * cite, poster, ...) made absolute against base; the rest of the text as
 * it was, each as feed_url_resolve_cached() with *ub. tmp is scratch:
 * its buffer may be swapped with b's. When the result would be longer
 * than b's cap, b stays as it was. 0, or FEED_E_NOMEM. */
int feed_text_resolve_urls(struct feed_buf *b, const char *base,
                           struct feed_url_base **ub, struct feed_buf *tmp);
/* Base64 decoded in place (RFC 4648 §4; white space skipped). 0, or -1
 * when it is not base64. */
int feed_text_base64_decode(struct feed_buf *);

#endif
