#ifndef SOCKEYE_CLIBWEBSOCKETS_SHIM_H
#define SOCKEYE_CLIBWEBSOCKETS_SHIM_H
/* Imports libwebsockets into Swift. Function-like and sizeof-based macros do not
 * import, so each one Swift needs is wrapped in a static inline function here. */
#include <libwebsockets.h>

/** Headroom libwebsockets needs in front of every buffer given to lws_write(). */
static inline size_t sockeye_lws_pre(void) { return LWS_PRE; }

#endif
