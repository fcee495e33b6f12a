#ifndef SOCKEYE_CLIBWEBSOCKETS_SHIM_H
#define SOCKEYE_CLIBWEBSOCKETS_SHIM_H
/* Imports libwebsockets into Swift. Function-like and sizeof-based macros do not
 * import, so each one Swift needs is wrapped in a static inline function here. */
#include <libwebsockets.h>

/** Headroom libwebsockets needs in front of every buffer given to lws_write(). */
static inline size_t sockeye_lws_pre(void) { return LWS_PRE; }

/* --- sockeye-sim (server role) helpers --- */

/** A libwebsockets timer carrying a user pointer; the sul must stay first so the
 *  callback's `lws_sorted_usec_list_t *` can be turned back into this struct. */
typedef struct sockeye_timer {
    lws_sorted_usec_list_t sul;
    void *user;
} sockeye_timer;

/** Recovers the `sockeye_timer` a sul callback fired for. */
static inline sockeye_timer *sockeye_timer_from_sul(lws_sorted_usec_list_t *sul) {
    return (sockeye_timer *)(void *)sul;
}

#endif
