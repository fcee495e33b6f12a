/* What the ABI's Swift code needs from the C library that Glibc's Swift module does not
 * import: eventfd for the pull queue. Not part of the public header. */
#ifndef SOCKEYE_ABI_SHIM_H
#define SOCKEYE_ABI_SHIM_H

#include <sys/eventfd.h>

/** A non-blocking, close-on-exec eventfd starting at 0; -1 with errno on failure. */
static inline int sockeye_shim_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

#endif
