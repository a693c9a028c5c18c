/* feeds/entities.h - HTML's named character entities (internal to feeds/). */
#ifndef FEEDS_ENTITIES_H
#define FEEDS_ENTITIES_H

#include <stddef.h>

/* The UTF-8 text of the HTML 4.01 entity name ("nbsp" -> U+00A0), or NULL
 * when there is none by that name. Names are case-sensitive. */
const char *feed_html_entity(const char *name);

/* The table itself, for its test: how many names, and the i-th in the
 * table's order (NULL past the end). */
size_t feed_html_entity_count(void);
const char *feed_html_entity_name(size_t i);

#endif
