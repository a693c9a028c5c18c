/* store */
#include "store.h"
