/* feeds/id.c */
#include "feeds.h"
