/* feeds/date.c */
#include "feeds.h"
