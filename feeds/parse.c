/* feeds/parse.c */
#include "feeds.h"
