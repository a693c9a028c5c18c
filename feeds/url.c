/* feeds/url.c */
#include "feeds.h"
