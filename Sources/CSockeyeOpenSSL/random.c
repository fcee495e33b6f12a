/* See include/sockeye_random.h. */
#define _GNU_SOURCE
#include "sockeye_random.h"

#include <sys/random.h>

ssize_t sockeye_random_fill(void *buffer, size_t len) {
    return getrandom(buffer, len, 0);
}
