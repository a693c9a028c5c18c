/* config */
#include "config.h"
