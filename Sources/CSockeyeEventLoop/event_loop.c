/* The transport's libev loop; see include/sockeye_event_loop.h. */
#define _GNU_SOURCE
#include "sockeye_event_loop.h"

#include <dlfcn.h>
#include <ev.h>
#include <string.h>

/* Declared here rather than through <libwebsockets.h>: only its address is taken. */
struct lws_context;
struct lws_context_creation_info;
extern struct lws_context *lws_create_context(const struct lws_context_creation_info *info);

void *sockeye_event_loop_new(void) {
    return ev_loop_new(EVBACKEND_EPOLL);
}

void sockeye_event_loop_run_once(void *loop) {
    ev_run((struct ev_loop *)loop, EVRUN_ONCE);
}

void sockeye_event_loop_destroy(void *loop) {
    ev_loop_destroy((struct ev_loop *)loop);
}

int sockeye_event_loop_plugin_matches(void) {
    /* A function's address as an object pointer, without the cast ISO C leaves undefined. */
    union {
        struct lws_context *(*function)(const struct lws_context_creation_info *);
        void *object;
    } symbol = {.function = lws_create_context};
    Dl_info info;
    if (!dladdr(symbol.object, &info) || !info.dli_fname) return 0;
    const char *slash = strrchr(info.dli_fname, '/');
    const char *name = slash ? slash + 1 : info.dli_fname;
    return strncmp(name, "libwebsockets.so.", strlen("libwebsockets.so.")) == 0;
}
