/* feeds/entities.h - HTML's named character entities (internal to feeds/). */
#ifndef FEEDS_ENTITIES_H
#define FEEDS_ENTITIES_H

/* The UTF-8 text of the HTML 4.01 entity name ("nbsp" -> U+00A0), or NULL
 * when there is none by that name. Names are case-sensitive. */
const char *feed_html_entity(const char *name);

#endif
