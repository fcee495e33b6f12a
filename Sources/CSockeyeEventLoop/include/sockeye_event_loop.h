#ifndef SOCKEYE_EVENT_LOOP_H
#define SOCKEYE_EVENT_LOOP_H
/* The transport's event loop: a libev loop on epoll that libwebsockets runs on as a
 * "foreign" loop (LWS_SERVER_OPTION_LIBEV, through Debian's libev event-library plugin).
 * lws' own loop polls every descriptor on every wake-up, so with hundreds of connections a
 * wake-up cost grew with the connections, not with what was ready; on epoll it does not.
 * <ev.h> is mostly macros and does not import into Swift, hence these few C functions.
 * Each one is called on the service thread that owns the loop; the loop is opaque. */

#ifdef __cplusplus
extern "C" {
#endif

/** A new libev loop on the epoll backend, or NULL if the system refuses one. */
void *sockeye_event_loop_new(void);

/** Runs the loop until at least one event was handled (EVRUN_ONCE): blocks until then. */
void sockeye_event_loop_run_once(void *loop);

/** Whether the libwebsockets this process runs is the system's shared library (its file is
 *  named libwebsockets.so.N), the one lws' libev plugin links. A copy bundled under another
 *  name (a Python wheel repaired by auditwheel) would meet a second lws in the plugin:
 *  then the caller stays on lws' own loop. Thread-safe. */
int sockeye_event_loop_plugin_matches(void);

/** Destroys a loop no watcher uses any more (after lws_context_destroy). */
void sockeye_event_loop_destroy(void *loop);

#ifdef __cplusplus
}
#endif
#endif
