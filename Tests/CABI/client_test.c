/*
 * The client half of the C ABI against a real sockeye-sim process on 127.0.0.1: callback
 * and pull modes (the eventfd in poll), every ack mode, response payloads, nack and
 * redelivery, stats, 8 host threads, free with outstanding events, stop from a callback,
 * older struct sizes, bad input and misuse, the pull queue's bound (a consumer that stops)
 * and the Web API deadline (a server that never answers). Built by Tests/CABI/run-client.sh
 * as C99 (-std=c99 -pedantic) and as C++, optionally with -fsanitize=thread or address,
 * linked through `pkg-config sockeye` against an installed library.
 *
 * Usage: client_test PATH/TO/sockeye-sim [test-name-substring]
 * Prints one line per failed check, "ok <test>" per test, and "N passed, M failed".
 */
#define _GNU_SOURCE 1
#include <sockeye.h>

#include <pthread.h>
#include <stdint.h>

#include "sim_process.h"

#define TOKEN "xapp-1-A0SIMAPP01-1-simsecret"
#define SECRET "simsecret"

static int passed = 0;
static int failed = 0;
static const char *sim_binary;

#define CHECK(cond, what)                                                                   \
    do {                                                                                    \
        if (cond) {                                                                         \
            passed++;                                                                       \
        } else {                                                                            \
            failed++;                                                                       \
            printf("FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, what, #cond);               \
            fflush(stdout);                                                                 \
        }                                                                                   \
    } while (0)

#define CHECK_STATUS(call, expected)                                                        \
    do {                                                                                    \
        sockeye_status got_ = (call);                                                       \
        if (got_ == (expected)) {                                                           \
            passed++;                                                                       \
        } else {                                                                            \
            failed++;                                                                       \
            printf("FAIL %s:%d: %s gave %d (%s), wanted %s\n", __FILE__, __LINE__, #call,   \
                   (int)got_, sockeye_strerror(got_), #expected);                           \
            fflush(stdout);                                                                 \
        }                                                                                   \
    } while (0)

/* ---- log capture: every line any client logs, checked for the token's secret ---- */

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char log_text[1 << 16];
static size_t log_used = 0;
static long log_lines = 0;

static void capture_log(void *user, sockeye_log_level level, const char *message) {
    size_t len = strlen(message);
    (void)user;
    pthread_mutex_lock(&log_mutex);
    log_lines++;
    if (getenv("SOCKEYE_TEST_VERBOSE") != NULL) fprintf(stderr, "log %d: %s\n", (int)level, message);
    if (log_used + len + 2 < sizeof log_text) {
        memcpy(log_text + log_used, message, len);
        log_used += len;
        log_text[log_used++] = '\n';
        log_text[log_used] = 0;
    }
    pthread_mutex_unlock(&log_mutex);
}

static int log_contains(const char *text) {
    int found;
    pthread_mutex_lock(&log_mutex);
    found = strstr(log_text, text) != NULL;
    pthread_mutex_unlock(&log_mutex);
    return found;
}

/* ---- helpers ---- */

static int start_sim(sim_process *sim, const char *const *extra) {
    int rc = sim_start(sim, sim_binary, extra);
    CHECK(rc == 0, "sockeye-sim started and printed LISTENING");
    return rc;
}

static void default_options(sockeye_client_options *options, const sim_process *sim) {
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->app_token = TOKEN;
    options->api_base_url = sim->api;
    options->pool_size = 1;
    options->log = capture_log;
    options->log_level = SOCKEYE_LOG_DEBUG;
}

static int view_equals(const sockeye_view *view, const char *text) {
    size_t len = strlen(text);
    return (view->flags & SOCKEYE_VIEW_PRESENT) != 0 && view->len == len && memcmp(view->ptr, text, len) == 0;
}

static int view_copy(const sockeye_view *view, char *out, size_t size) {
    size_t len = 0;
    if (sockeye_view_decode(view, out, size - 1, &len) != SOCKEYE_OK) return -1;
    out[len] = 0;
    return 0;
}

static int fd_readable(int fd, int timeout_ms) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

/* Waits (≤ timeout_ms) until the client has `want` live connections. */
static int wait_live(sockeye_client *client, uint32_t want, int timeout_ms) {
    long long deadline = sim_now_ms() + timeout_ms;
    sockeye_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    while (sim_now_ms() < deadline) {
        if (sockeye_client_stats(client, &stats) == SOCKEYE_OK && stats.connections_live >= want) return 1;
        sim_sleep_ms(20);
    }
    return 0;
}

/* Takes up to `want` events from a pull client within `timeout_ms`, into `events`. */
static int take_events(sockeye_client *client, sockeye_event **events, int want, int timeout_ms) {
    long long deadline = sim_now_ms() + timeout_ms;
    int got = 0;
    while (got < want && sim_now_ms() < deadline) {
        sockeye_event *event = NULL;
        sockeye_status status = sockeye_client_next_event(client, 50, &event);
        if (status == SOCKEYE_OK) events[got++] = event;
        else if (status != SOCKEYE_E_TIMEOUT) break;
    }
    return got;
}

/* Injects `count` messages, takes them from `client`'s pull queue and acks each; true when
 * all `count` arrived (`what` names the case) and the simulator then counts `acked_total`. */
static int inject_take_ack(sim_process *sim, sockeye_client *client, int count, int acked_total, const char *what) {
    sockeye_event *events[16];
    int got, i;
    if (count > 16) return 0;
    sim_sleep_ms(300);
    CHECK(sim_inject(sim, "message", count) == 0, "inject");
    got = take_events(client, events, count, 10000);
    CHECK(got == count, what);
    for (i = 0; i < got; i++) {
        CHECK_STATUS(sockeye_ack(events[i], NULL, 0), SOCKEYE_OK);
        sockeye_event_release(events[i]);
    }
    CHECK(sim_wait_total(sim, "acked", acked_total, 10000) == acked_total, "acked");
    return got == count;
}

/* ---- state capture for callback tests ---- */

typedef struct state_box {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int last;
    int stopped;
    int failed;
    int events;
    int acked_in_callback;
    sockeye_client *client;
    char failure[256];
} state_box;

static void state_box_init(state_box *box) {
    memset(box, 0, sizeof *box);
    pthread_mutex_init(&box->mutex, NULL);
    pthread_cond_init(&box->changed, NULL);
    box->last = -1;
}

static void state_box_destroy(state_box *box) {
    pthread_mutex_destroy(&box->mutex);
    pthread_cond_destroy(&box->changed);
}

static void on_state(void *user, sockeye_client *client, sockeye_state state, const char *detail) {
    state_box *box = (state_box *)user;
    (void)client;
    pthread_mutex_lock(&box->mutex);
    box->last = (int)state;
    if (state == SOCKEYE_STATE_STOPPED) box->stopped = 1;
    if (state == SOCKEYE_STATE_FAILED) {
        box->failed = 1;
        snprintf(box->failure, sizeof box->failure, "%s", detail);
    }
    pthread_cond_broadcast(&box->changed);
    pthread_mutex_unlock(&box->mutex);
}

/* Waits until `*flag` (guarded by box->mutex) reaches `want`; bounded. */
static int state_wait(state_box *box, const int *flag, int want, int timeout_ms) {
    long long deadline = sim_now_ms() + timeout_ms;
    int ok;
    pthread_mutex_lock(&box->mutex);
    while (*flag < want && sim_now_ms() < deadline) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&box->changed, &box->mutex, &until);
    }
    ok = *flag >= want;
    pthread_mutex_unlock(&box->mutex);
    return ok;
}

/* =================================================================================== */

static void test_version_and_strings(void) {
    sockeye_version_info info;
    sockeye_status all[] = {SOCKEYE_OK, SOCKEYE_E_INVALID_ARGUMENT, SOCKEYE_E_MALFORMED, SOCKEYE_E_LIMIT,
                            SOCKEYE_E_NOT_ENVELOPE, SOCKEYE_E_ACK_TOO_LARGE, SOCKEYE_E_BUFFER_TOO_SMALL,
                            SOCKEYE_E_INVALID_ENVELOPE_ID, SOCKEYE_E_INVALID_PAYLOAD, SOCKEYE_E_INVALID_HANDLE,
                            SOCKEYE_E_ALREADY_ANSWERED, SOCKEYE_E_TIMEOUT, SOCKEYE_E_STOPPED,
                            SOCKEYE_E_WRONG_MODE, SOCKEYE_E_INVALID_TOKEN, SOCKEYE_E_INVALID_URL,
                            SOCKEYE_E_INVALID_OPTION, SOCKEYE_E_SYSTEM, SOCKEYE_E_WRONG_THREAD, SOCKEYE_E_FAILED};
    size_t i;
    const char *unknown = sockeye_strerror((sockeye_status)-1000);
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK(strcmp(sockeye_strerror(all[i]), unknown) != 0, "sockeye_strerror names every status");
    }
    CHECK(sockeye_version_number() >= ((0u << 16) | (2u << 8)), "library is at least 0.2");
    memset(&info, 0xAB, sizeof info);
    info.struct_size = sizeof info;
    CHECK_STATUS(sockeye_version_info_get(&info), SOCKEYE_OK);
    CHECK(info.version_number == sockeye_version_number(), "version_info number");
    CHECK(strcmp(info.version, sockeye_version()) == 0, "version_info string");
    CHECK((info.features & SOCKEYE_FEATURE_TLS) && (info.features & SOCKEYE_FEATURE_PROXY) &&
              (info.features & SOCKEYE_FEATURE_EVENTFD),
          "features: TLS, proxy, eventfd");
    CHECK(strstr(info.tls_library, "OpenSSL") != NULL, "tls_library names OpenSSL");
    CHECK(info.event_loop != NULL && strlen(info.event_loop) > 0, "event_loop named");
    info.struct_size = 4;
    CHECK_STATUS(sockeye_version_info_get(&info), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_version_info_get(NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK(strcmp(sockeye_state_name(SOCKEYE_STATE_RUNNING), "running") == 0, "state name");
    CHECK(strcmp(sockeye_state_name(99), "unknown") == 0, "unknown state name");
}

static void on_event_ignore(void *user, sockeye_client *client, sockeye_event *event) {
    (void)user;
    (void)client;
    sockeye_event_release(event);
}

static void test_bad_input(void) {
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = (sockeye_client *)1;
    sockeye_client_options options;
    sockeye_event *event = NULL;
    sockeye_stats stats;
    sockeye_view view;
    int fd;
    sim_process fake;
    memset(&fake, 0, sizeof fake);
    snprintf(fake.api, sizeof fake.api, "http://127.0.0.1:9/api/");

    CHECK_STATUS(sockeye_runtime_new(NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);

    default_options(&options, &fake);
    CHECK_STATUS(sockeye_client_new(runtime, NULL, &client), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_new(runtime, &options, NULL), SOCKEYE_E_INVALID_ARGUMENT);
    options.struct_size = SOCKEYE_CLIENT_OPTIONS_MIN_SIZE - 1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_ARGUMENT);
    options.struct_size = 0;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK(client == (sockeye_client *)1, "out untouched on failure");

    default_options(&options, &fake);
    CHECK_STATUS(sockeye_client_new(NULL, &options, &client), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_client_new((sockeye_runtime *)&options, &options, &client), SOCKEYE_E_INVALID_HANDLE);

    options.app_token = NULL;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_TOKEN);
    options.app_token = "xoxb-1234-5678-botsecretvalue";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_TOKEN);
    CHECK(log_contains("bot token"), "the log names the kind of token given");
    CHECK(!log_contains("botsecretvalue"), "the log does not quote the rejected token");
    options.app_token = "xapp-1-A0\xff\xfe-1-x";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_TOKEN);
    options.app_token = "";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_TOKEN);

    default_options(&options, &fake);
    options.api_base_url = "not a url";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_URL);
    options.api_base_url = "ftp://example.com/api/";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_URL);
    options.api_base_url = "http://127.0.0.1:9/\xc3\x28";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_URL);
    default_options(&options, &fake);
    options.proxy_url = "http://[bad";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_URL);
    default_options(&options, &fake);
    options.pool_size = 11;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    options.pool_size = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    default_options(&options, &fake);
    options.ack_mode = 9;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    default_options(&options, &fake);
    options.ca_file = "/nonexistent/ca.pem";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    default_options(&options, &fake);
    options.log_level = 7;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    default_options(&options, &fake);
    options.max_pool_size = 11;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    /* since 0.3: the Web API deadline and the pull queue's bound, range-checked */
    default_options(&options, &fake);
    options.web_api_timeout_ms = 99;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    CHECK(log_contains("web_api_timeout_ms 99 is not in 100...300000"), "the log names the field and its range");
    options.web_api_timeout_ms = 300001;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    options.web_api_timeout_ms = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    options.web_api_timeout_ms = INT32_MIN;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    options.web_api_timeout_ms = INT32_MAX;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    default_options(&options, &fake);
    options.max_queued_events = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    CHECK(log_contains("max_queued_events -1 is not in 1...10000000"), "the log names the field and its range");
    options.max_queued_events = 10000001;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    options.max_queued_events = INT32_MIN;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    /* a callback client has no queue: a bound there is refused, not ignored */
    default_options(&options, &fake);
    options.on_event = on_event_ignore;
    options.max_queued_events = 100;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_OPTION);
    CHECK(log_contains("a callback client has no queue"), "the log says why");
    CHECK(client == (sockeye_client *)1, "out untouched on failure");
    /* the ends of both ranges are accepted (pull mode) */
    {
        static const int32_t timeouts[] = {100, 300000};
        static const int32_t bounds[] = {1, 10000000};
        int i;
        for (i = 0; i < 2; i++) {
            sockeye_client *made = NULL;
            default_options(&options, &fake);
            options.web_api_timeout_ms = timeouts[i];
            options.max_queued_events = bounds[i];
            CHECK_STATUS(sockeye_client_new(runtime, &options, &made), SOCKEYE_OK);
            if (made != NULL) CHECK_STATUS(sockeye_client_free(made), SOCKEYE_OK);
        }
    }

    /* NULL and wrong-kind handles everywhere */
    CHECK_STATUS(sockeye_client_stop(NULL, 1), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_client_free(NULL), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_client_free((sockeye_client *)runtime), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_client_next_event(NULL, 0, &event), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_client_next_event((sockeye_client *)runtime, 0, NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_event_fd(NULL, &fd), SOCKEYE_E_INVALID_HANDLE);
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    CHECK_STATUS(sockeye_client_stats(NULL, &stats), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_event_release(NULL), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_event_release((sockeye_event *)runtime), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_event_retain((sockeye_event *)&stats), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_ack(NULL, NULL, 0), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_nack(NULL), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_event_payload(NULL, &view), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_event_payload(NULL, NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_event_type((sockeye_event *)0x12345678, &view), SOCKEYE_E_INVALID_HANDLE);

    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    /* calls after the runtime is freed */
    default_options(&options, &fake);
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_runtime_free(NULL), SOCKEYE_E_INVALID_HANDLE);
}

/* ---- callback mode, after_handler ---- */

typedef struct callback_box {
    state_box state;
    int expect_kind_events_api;
    int retained_ok;
} callback_box;

static void on_event_count(void *user, sockeye_client *client, sockeye_event *event) {
    state_box *box = (state_box *)user;
    int32_t kind = 0;
    sockeye_view view;
    int ok = sockeye_event_kind(event, &kind) == SOCKEYE_OK && kind == SOCKEYE_MESSAGE_EVENTS_API &&
             sockeye_event_event_type(event, &view) == SOCKEYE_OK && view_equals(&view, "app_mention") &&
             sockeye_event_payload(event, &view) == SOCKEYE_OK && view.len > 0 && view.ptr[0] == '{';
    (void)client;
    sockeye_event_release(event);
    pthread_mutex_lock(&box->mutex);
    box->events += ok ? 1 : 1000000;
    pthread_cond_broadcast(&box->changed);
    pthread_mutex_unlock(&box->mutex);
}

static void test_callback_after_handler(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    state_box box;
    int fd = -1;
    if (start_sim(&sim, NULL) != 0) return;
    state_box_init(&box);
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.on_event = on_event_count;
    options.on_event_user = &box;
    options.on_state = on_state;
    options.on_state_user = &box;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_event_fd(client, &fd), SOCKEYE_E_WRONG_MODE);
    CHECK_STATUS(sockeye_client_next_event(client, 0, (sockeye_event **)&stats), SOCKEYE_E_WRONG_MODE);
    sim_wait_total(&sim, "delivered", 0, 100);
    CHECK(state_wait(&box, &box.last, SOCKEYE_STATE_RUNNING, 10000), "callback client reaches running");
    CHECK(sim_inject(&sim, "app_mention", 20) == 0, "inject 20");
    CHECK(state_wait(&box, &box.events, 20, 10000), "20 events reach the callback");
    CHECK(box.events == 20, "every event had the right kind, event type and payload");
    CHECK(sim_wait_total(&sim, "acked", 20, 10000) == 20, "after_handler acked all 20 when the callback returned");
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
    CHECK(stats.delivered == 20, "stats.delivered");
    CHECK(stats.state == SOCKEYE_STATE_RUNNING, "stats.state running");
    CHECK(stats.connections_live == 1, "stats.connections_live");
    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_OK);
    CHECK(state_wait(&box, &box.stopped, 1, 10000), "stopped after stop(drain)");
    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_E_INVALID_HANDLE);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    CHECK(sim_total(&sim, "unknownAcks") == 0 && sim_total(&sim, "duplicateAcks") == 0, "no stray acks");
    sim_stop(&sim);
    state_box_destroy(&box);
}

/* ---- pull mode, manual, eventfd in poll ---- */

static void test_pull_eventfd_manual(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    int fd = -1;
    int got = 0;
    int woke = 0;
    long long deadline;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_event_fd(client, &fd), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_event_fd(client, NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK(fd >= 0, "eventfd is a descriptor");
    CHECK(!fd_readable(fd, 0), "eventfd not readable while nothing is queued");
    {
        sockeye_event *none = (sockeye_event *)1;
        CHECK_STATUS(sockeye_client_next_event(client, 0, &none), SOCKEYE_E_TIMEOUT);
        CHECK(none == NULL, "out is NULL on timeout");
    }
    while (sim_wait_total(&sim, "delivered", 0, 10) < 0) {
    }
    /* wait for the connection, then inject */
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    CHECK(wait_live(client, 1, 10000), "connected");
    CHECK(sim_inject(&sim, "message", 50) == 0, "inject 50");
    deadline = sim_now_ms() + 10000;
    while (got < 50 && sim_now_ms() < deadline) {
        sockeye_event *event = NULL;
        if (!fd_readable(fd, 100)) continue;
        woke++;
        while (sockeye_client_next_event(client, 0, &event) == SOCKEYE_OK) {
            sockeye_view id;
            CHECK_STATUS(sockeye_event_envelope_id(event, &id), SOCKEYE_OK);
            CHECK(id.len > 0 && id.ptr != NULL, "envelope id present");
            CHECK_STATUS(sockeye_ack(event, NULL, 0), SOCKEYE_OK);
            CHECK_STATUS(sockeye_ack(event, NULL, 0), SOCKEYE_E_ALREADY_ANSWERED);
            CHECK_STATUS(sockeye_nack(event), SOCKEYE_E_ALREADY_ANSWERED);
            CHECK_STATUS(sockeye_event_release(event), SOCKEYE_OK);
            /* misuse after the last release: a status, never a crash */
            CHECK_STATUS(sockeye_event_release(event), SOCKEYE_E_INVALID_HANDLE);
            CHECK_STATUS(sockeye_ack(event, NULL, 0), SOCKEYE_E_INVALID_HANDLE);
            CHECK_STATUS(sockeye_event_payload(event, &id), SOCKEYE_E_INVALID_HANDLE);
            got++;
        }
    }
    CHECK(got == 50, "50 events taken through the poll loop");
    CHECK(woke >= 1, "the eventfd woke poll");
    CHECK(!fd_readable(fd, 0), "eventfd not readable once the queue is empty");
    CHECK(sim_wait_total(&sim, "acked", 50, 10000) == 50, "sim saw 50 acks");
    CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
    CHECK(stats.host_acks == 50, "stats.host_acks");
    CHECK(stats.ack_latency_p50_us <= stats.ack_latency_p99_us &&
              stats.ack_latency_p99_us <= stats.ack_latency_max_us && stats.ack_latency_max_us < 10000000,
          "ack latency percentiles ordered and plausible");
    CHECK(stats.queued == 0, "queue empty");
    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_OK);
    {
        sockeye_event *event = NULL;
        sockeye_status status = SOCKEYE_E_TIMEOUT;
        deadline = sim_now_ms() + 10000;
        while (status == SOCKEYE_E_TIMEOUT && sim_now_ms() < deadline) {
            status = sockeye_client_next_event(client, 100, &event);
        }
        CHECK(status == SOCKEYE_E_STOPPED, "next_event reports STOPPED after the drain");
        CHECK(fd_readable(fd, 0), "eventfd readable once stopped (wakes the loop)");
    }
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    CHECK(sim_total(&sim, "unknownAcks") == 0 && sim_total(&sim, "duplicateAcks") == 0, "no stray acks");
    sim_stop(&sim);
}

/* ---- all fields in one call, and events taken in batches ---- */

/* True when `view` is absent, or lies wholly inside `data`. */
static int view_within(const sockeye_view *view, const sockeye_view *data) {
    if (!(view->flags & SOCKEYE_VIEW_PRESENT)) return view->ptr == NULL && view->len == 0;
    return view->ptr >= data->ptr && view->ptr + view->len <= data->ptr + data->len;
}

static int views_same(const sockeye_view *a, const sockeye_view *b) {
    return a->ptr == b->ptr && a->len == b->len && a->flags == b->flags;
}

/* The info agrees, field by field, with the one-call-each accessors. */
static int info_matches_accessors(const sockeye_event_info *info) {
    sockeye_view view;
    int32_t kind = -1;
    int64_t attempt = -1;
    int accepts = -1;
    int ok = 1;
    const sockeye_view *fields[8];
    sockeye_status (*accessors[8])(const sockeye_event *, sockeye_view *) = {
        sockeye_event_type, sockeye_event_envelope_id, sockeye_event_payload, sockeye_event_team_id,
        sockeye_event_event_id, sockeye_event_event_type, sockeye_event_payload_type, sockeye_event_retry_reason};
    int i;
    fields[0] = &info->type;
    fields[1] = &info->envelope_id;
    fields[2] = &info->payload;
    fields[3] = &info->team_id;
    fields[4] = &info->event_id;
    fields[5] = &info->event_type;
    fields[6] = &info->payload_type;
    fields[7] = &info->retry_reason;
    for (i = 0; i < 8; i++) {
        ok = ok && accessors[i](info->event, &view) == SOCKEYE_OK && views_same(&view, fields[i]);
        ok = ok && view_within(fields[i], &info->data);
    }
    ok = ok && sockeye_event_kind(info->event, &kind) == SOCKEYE_OK && kind == info->kind;
    ok = ok && sockeye_event_retry_attempt(info->event, &attempt) == SOCKEYE_OK && attempt == info->retry_attempt;
    ok = ok && sockeye_event_accepts_response_payload(info->event, &accepts) == SOCKEYE_OK &&
         accepts == info->accepts_response_payload;
    return ok;
}

/* A host built against a newer header: a bigger element, whose tail the library zeroes. */
typedef struct bigger_info {
    sockeye_event_info info;
    uint64_t newer[3];
} bigger_info;

static void test_next_events_batch(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client *callback_client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    bigger_info infos[4];
    sockeye_event_info one;
    size_t count = 99;
    int got = 0, calls = 0, slash = 0, matched = 0, tails_zero = 1, sizes_set = 1, most = 0;
    long long deadline;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    options.ack_guard_ms = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);

    /* Bad arguments: a status, and nothing taken. */
    memset(infos, 0, sizeof infos);
    infos[0].info.struct_size = sizeof(bigger_info);
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, 4, NULL),
                 SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_next_events(client, 0, NULL, 4, &count), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK(count == 0, "count 0 on a refusal");
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, 0, &count), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, (size_t)-1, &count),
                 SOCKEYE_E_INVALID_ARGUMENT);
    infos[0].info.struct_size = SOCKEYE_EVENT_INFO_MIN_SIZE - 8;
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, 4, &count), SOCKEYE_E_INVALID_ARGUMENT);
    infos[0].info.struct_size = sizeof(sockeye_event_info) + 4;
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, 4, &count), SOCKEYE_E_INVALID_ARGUMENT);
    infos[0].info.struct_size = sizeof(bigger_info);
    CHECK_STATUS(sockeye_client_next_events(client, 0, &infos[0].info, 4, &count), SOCKEYE_E_TIMEOUT);
    CHECK(count == 0, "count 0 on a timeout");
    CHECK_STATUS(sockeye_client_next_events(NULL, 0, &infos[0].info, 4, &count), SOCKEYE_E_INVALID_HANDLE);

    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    CHECK(wait_live(client, 1, 10000), "connected");
    CHECK(sim_inject(&sim, "message", 9) == 0, "inject 9 messages");
    CHECK(sim_inject(&sim, "slash_command", 1) == 0, "inject 1 slash command");
    /* Until all 10 are queued, so that a batch can be full. */
    deadline = sim_now_ms() + 10000;
    while (sim_now_ms() < deadline) {
        sockeye_client_stats(client, &stats);
        if (stats.queued == 10) break;
        sim_sleep_ms(20);
    }
    CHECK(stats.queued == 10, "10 events queued");
    deadline = sim_now_ms() + 10000;
    while (got < 10 && sim_now_ms() < deadline) {
        size_t i;
        memset(infos, 0xa5, sizeof infos);
        infos[0].info.struct_size = sizeof(bigger_info);
        if (sockeye_client_next_events(client, 100, &infos[0].info, 4, &count) != SOCKEYE_OK) continue;
        calls++;
        if ((int)count > most) most = (int)count;
        CHECK(count >= 1 && count <= 4, "1..capacity events per call");
        for (i = 0; i < count && i < 4; i++) {
            sockeye_event_info *info = &infos[i].info;
            sizes_set = sizes_set && info->struct_size == sizeof(bigger_info);
            tails_zero = tails_zero && infos[i].newer[0] == 0 && infos[i].newer[1] == 0 && infos[i].newer[2] == 0;
            if (info->event == NULL) continue;
            matched += info_matches_accessors(info);
            if (info->kind == SOCKEYE_MESSAGE_SLASH_COMMANDS) {
                slash++;
                CHECK(info->accepts_response_payload == 1, "a slash command accepts a response payload");
                CHECK(view_equals(&info->type, "slash_commands"), "the slash command's type");
            } else {
                CHECK(view_equals(&info->type, "events_api") && info->event_id.len > 0, "an event's type and id");
            }
            memset(&one, 0, sizeof one);
            one.struct_size = sizeof one;
            CHECK_STATUS(sockeye_event_info_get(info->event, &one), SOCKEYE_OK);
            CHECK(one.event == info->event && views_same(&one.payload, &info->payload) &&
                      views_same(&one.data, &info->data) && one.struct_size == sizeof one,
                  "sockeye_event_info_get gives the same fields");
            one.struct_size = SOCKEYE_EVENT_INFO_MIN_SIZE - 1;
            CHECK_STATUS(sockeye_event_info_get(info->event, &one), SOCKEYE_E_INVALID_ARGUMENT);
            CHECK_STATUS(sockeye_event_info_get(info->event, NULL), SOCKEYE_E_INVALID_ARGUMENT);
            CHECK_STATUS(sockeye_ack(info->event, NULL, 0), SOCKEYE_OK);
            CHECK_STATUS(sockeye_event_release(info->event), SOCKEYE_OK);
            one.struct_size = sizeof one;
            CHECK_STATUS(sockeye_event_info_get(info->event, &one), SOCKEYE_E_INVALID_HANDLE);
            got++;
        }
    }
    CHECK(got == 10, "10 events taken in batches");
    CHECK(matched == 10, "every info agrees with the accessors, every view inside `data`");
    CHECK(slash == 1, "the slash command among them");
    CHECK(most == 4, "a call filled its whole capacity");
    CHECK(calls <= 4, "10 queued events in at most 4 calls of 4");
    CHECK(sizes_set, "struct_size written into every element");
    CHECK(tails_zero, "the newer tail of each element zeroed");
    CHECK(sim_wait_total(&sim, "acked", 10, 10000) == 10, "sim saw 10 acks");
    CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
    CHECK(stats.host_acks == 10 && stats.queued == 0, "10 host acks, queue empty");

    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_OK);
    {
        sockeye_status status = SOCKEYE_E_TIMEOUT;
        deadline = sim_now_ms() + 10000;
        while (status == SOCKEYE_E_TIMEOUT && sim_now_ms() < deadline) {
            infos[0].info.struct_size = sizeof(bigger_info);
            status = sockeye_client_next_events(client, 100, &infos[0].info, 4, &count);
        }
        CHECK(status == SOCKEYE_E_STOPPED && count == 0, "next_events reports STOPPED after the drain");
    }

    default_options(&options, &sim);
    options.on_event = on_event_ignore;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &callback_client), SOCKEYE_OK);
    infos[0].info.struct_size = sizeof(bigger_info);
    CHECK_STATUS(sockeye_client_next_events(callback_client, 0, &infos[0].info, 4, &count), SOCKEYE_E_WRONG_MODE);
    CHECK_STATUS(sockeye_client_free(callback_client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    CHECK(sim_total(&sim, "unknownAcks") == 0 && sim_total(&sim, "duplicateAcks") == 0, "no stray acks");
    sim_stop(&sim);
}

/* ---- on_receipt ---- */

static void test_on_receipt(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *events[10];
    int i, got;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_ON_RECEIPT;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "reaction_added", 10) == 0, "inject 10");
    got = take_events(client, events, 10, 10000);
    CHECK(got == 10, "10 events");
    CHECK(sim_wait_total(&sim, "acked", 10, 10000) == 10, "acked on receipt without the host");
    for (i = 0; i < got; i++) {
        CHECK_STATUS(sockeye_nack(events[i]), SOCKEYE_E_ALREADY_ANSWERED);
        CHECK_STATUS(sockeye_ack(events[i], "{\"text\":\"x\"}", 12), SOCKEYE_E_ALREADY_ANSWERED);
        CHECK_STATUS(sockeye_ack(events[i], NULL, 0), SOCKEYE_OK);
        CHECK_STATUS(sockeye_event_release(events[i]), SOCKEYE_OK);
    }
    sim_sleep_ms(200);
    CHECK(sim_total(&sim, "acked") == 10 && sim_total(&sim, "unknownAcks") == 0 &&
              sim_total(&sim, "duplicateAcks") == 0,
          "exactly one ack per envelope");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- after_handler in pull mode: the last release acks ---- */

static void test_pull_after_handler_release_acks(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *events[5];
    int i, got;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_guard_ms = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "message", 5) == 0, "inject 5");
    got = take_events(client, events, 5, 10000);
    CHECK(got == 5, "5 events");
    for (i = 0; i < got; i++) CHECK_STATUS(sockeye_event_retain(events[i]), SOCKEYE_OK);
    for (i = 0; i < got; i++) CHECK_STATUS(sockeye_event_release(events[i]), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_total(&sim, "acked") == 0, "not acked while a reference is held");
    for (i = 0; i < got; i++) CHECK_STATUS(sockeye_event_release(events[i]), SOCKEYE_OK);
    CHECK(sim_wait_total(&sim, "acked", 5, 10000) == 5, "acked at the last release");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- response payloads: slash commands and interactive ---- */

static void test_response_payloads(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *events[6];
    char big[21000];
    int i, got, slash = 0, views = 0;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "slash_command", 3) == 0, "inject 3 slash commands");
    CHECK(sim_inject(&sim, "view_submission", 2) == 0, "inject 2 view submissions");
    CHECK(sim_inject(&sim, "block_actions", 1) == 0, "inject 1 block action");
    got = take_events(client, events, 6, 10000);
    CHECK(got == 6, "6 envelopes");
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    for (i = 0; i < got; i++) {
        int32_t kind = 0;
        int accepts = -1;
        sockeye_view type;
        CHECK_STATUS(sockeye_event_kind(events[i], &kind), SOCKEYE_OK);
        CHECK_STATUS(sockeye_event_accepts_response_payload(events[i], &accepts), SOCKEYE_OK);
        CHECK_STATUS(sockeye_event_payload_type(events[i], &type), SOCKEYE_OK);
        CHECK_STATUS(sockeye_ack(events[i], "{not json", 9), SOCKEYE_E_INVALID_PAYLOAD);
        CHECK_STATUS(sockeye_ack(events[i], "[1]", 3), SOCKEYE_E_INVALID_PAYLOAD);
        CHECK_STATUS(sockeye_ack(events[i], big, sizeof big), SOCKEYE_E_ACK_TOO_LARGE);
        CHECK_STATUS(sockeye_ack(events[i], NULL, 5), SOCKEYE_E_INVALID_ARGUMENT);
        /* Lengths past PTRDIFF_MAX (a negative length cast to size_t) and lengths far
         * beyond the buffer are refused before a byte is read. */
        CHECK_STATUS(sockeye_ack(events[i], "{}", (size_t)-1), SOCKEYE_E_INVALID_ARGUMENT);
        CHECK_STATUS(sockeye_ack(events[i], "{}", (size_t)PTRDIFF_MAX + 1), SOCKEYE_E_INVALID_ARGUMENT);
        CHECK_STATUS(sockeye_ack(events[i], "{}", (size_t)1 << 40), SOCKEYE_E_ACK_TOO_LARGE);
        CHECK_STATUS(sockeye_ack(events[i], "{}", SOCKEYE_ACK_MAX_FRAME), SOCKEYE_E_ACK_TOO_LARGE);
        if (kind == SOCKEYE_MESSAGE_SLASH_COMMANDS) {
            slash++;
            CHECK(accepts == 1, "slash commands accept a response payload");
            CHECK_STATUS(sockeye_ack(events[i], "{\"text\":\"Done \\u2705\"}", 22), SOCKEYE_OK);
        } else if (kind == SOCKEYE_MESSAGE_INTERACTIVE && view_equals(&type, "view_submission")) {
            views++;
            CHECK(accepts == 1, "view submissions accept a response payload");
            CHECK_STATUS(sockeye_ack(events[i], "{\"response_action\":\"clear\"}", 27), SOCKEYE_OK);
        } else {
            CHECK(kind == SOCKEYE_MESSAGE_INTERACTIVE && view_equals(&type, "block_actions"), "block_actions");
            CHECK_STATUS(sockeye_ack(events[i], NULL, 0), SOCKEYE_OK);
        }
        CHECK_STATUS(sockeye_event_release(events[i]), SOCKEYE_OK);
    }
    CHECK(slash == 3 && views == 2, "3 slash commands and 2 view submissions");
    CHECK(sim_wait_total(&sim, "acked", 6, 10000) == 6, "6 acks");
    CHECK(sim_total(&sim, "responsePayloads") == 5, "the sim received 5 response payloads");
    CHECK(sim_total(&sim, "userVisibleFailures") == 0, "no user-visible failures");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- nack → redelivery ---- */

static void test_nack_redelivery(void) {
    const char *const extra[] = {"--ack-deadline", "0.5", NULL};
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *first = NULL;
    sockeye_event *second = NULL;
    sockeye_view id1, id2;
    char event1[128], event2[128];
    int64_t attempt = -1;
    sockeye_stats stats;
    if (start_sim(&sim, extra) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    options.ack_guard_ms = -1;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "app_mention", 1) == 0, "inject 1");
    CHECK(take_events(client, &first, 1, 10000) == 1, "first delivery");
    if (first == NULL) goto done;
    CHECK_STATUS(sockeye_event_event_id(first, &id1), SOCKEYE_OK);
    CHECK(view_copy(&id1, event1, sizeof event1) == 0, "event id");
    CHECK_STATUS(sockeye_nack(first), SOCKEYE_OK);
    CHECK_STATUS(sockeye_nack(first), SOCKEYE_E_ALREADY_ANSWERED);
    CHECK_STATUS(sockeye_ack(first, NULL, 0), SOCKEYE_E_ALREADY_ANSWERED);
    CHECK(take_events(client, &second, 1, 10000) == 1, "redelivery delivered again");
    if (second != NULL) {
        CHECK_STATUS(sockeye_event_event_id(second, &id2), SOCKEYE_OK);
        CHECK(view_copy(&id2, event2, sizeof event2) == 0 && strcmp(event1, event2) == 0, "same event id");
        CHECK_STATUS(sockeye_event_retry_attempt(second, &attempt), SOCKEYE_OK);
        CHECK(attempt == 1, "retry_attempt 1");
        CHECK_STATUS(sockeye_event_retry_reason(second, &id2), SOCKEYE_OK);
        CHECK(view_equals(&id2, "timeout"), "retry_reason timeout");
        CHECK_STATUS(sockeye_ack(second, NULL, 0), SOCKEYE_OK);
        CHECK_STATUS(sockeye_event_release(second), SOCKEYE_OK);
    }
    CHECK_STATUS(sockeye_event_release(first), SOCKEYE_OK);
    CHECK(sim_wait_total(&sim, "acked", 1, 10000) == 1, "the redelivery was acked");
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    sim_sleep_ms(100);
    CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
    CHECK(stats.nacked == 1 && stats.redelivered == 1 && stats.delivered == 2, "stats: nacked, redelivered");
    CHECK(sim_total(&sim, "redelivered") == 1 && sim_total(&sim, "failedAfterRetries") == 0, "sim: one retry");
done:
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- 8 host threads ---- */

#define THREADS 8
#define LOAD_TOTAL 20000

typedef struct stop_flag {
    pthread_mutex_t mutex;
    int value;
} stop_flag;

static int stop_flag_get(stop_flag *flag) {
    int value;
    pthread_mutex_lock(&flag->mutex);
    value = flag->value;
    pthread_mutex_unlock(&flag->mutex);
    return value;
}

typedef struct worker {
    sockeye_client *client;
    stop_flag *stop;
    long taken;
    long acked;
    long nacked;
    long errors;
    unsigned seed;
} worker;

static void *worker_main(void *argument) {
    worker *self = (worker *)argument;
    while (!stop_flag_get(self->stop)) {
        sockeye_event *event = NULL;
        sockeye_status status = sockeye_client_next_event(self->client, 20, &event);
        sockeye_view payload;
        int64_t attempt = 0;
        if (status == SOCKEYE_E_TIMEOUT) continue;
        if (status != SOCKEYE_OK) break;
        self->taken++;
        if (sockeye_event_payload(event, &payload) != SOCKEYE_OK || payload.len == 0 || payload.ptr[0] != '{' ||
            payload.ptr[payload.len - 1] != '}')
            self->errors++;
        sockeye_event_retry_attempt(event, &attempt);
        self->seed = self->seed * 1103515245u + 12345u;
        if (attempt == 0 && (self->seed >> 16) % 64 == 0) {
            if (sockeye_nack(event) == SOCKEYE_OK) self->nacked++;
            else self->errors++;
        } else if ((self->seed >> 16) % 4 == 0) {
            /* hand a reference around: retain, ack, release twice */
            if (sockeye_event_retain(event) != SOCKEYE_OK) self->errors++;
            if (sockeye_ack(event, NULL, 0) == SOCKEYE_OK) self->acked++;
            else self->errors++;
            if (sockeye_event_release(event) != SOCKEYE_OK) self->errors++;
        } else {
            if (sockeye_ack(event, NULL, 0) == SOCKEYE_OK) self->acked++;
            else self->errors++;
        }
        if (sockeye_event_release(event) != SOCKEYE_OK) self->errors++;
        if (sockeye_event_release(event) != SOCKEYE_E_INVALID_HANDLE) self->errors++;
    }
    return NULL;
}

static void test_eight_threads(void) {
    const char *const extra[] = {"--ack-deadline", "1", NULL};
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    pthread_t threads[THREADS];
    worker workers[THREADS];
    stop_flag stop;
    long taken = 0, acked = 0, nacked = 0, errors = 0;
    long long sim_acked;
    char body[256];
    int i;
    if (start_sim(&sim, extra) != 0) return;
    pthread_mutex_init(&stop.mutex, NULL);
    stop.value = 0;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    options.pool_size = 2;
    options.ack_guard_ms = -1;
    options.log_level = SOCKEYE_LOG_WARN;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    for (i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].client = client;
        workers[i].stop = &stop;
        workers[i].seed = (unsigned)(i * 7919 + 1);
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    sim_sleep_ms(500);
    snprintf(body, sizeof body, "{\"window\":400,\"total\":%d,\"sizes\":[1024]}", LOAD_TOTAL);
    CHECK(sim_http(&sim, "POST", "/admin/load", body, NULL, 0) == 200, "load started");
    sim_acked = sim_wait_total(&sim, "acked", LOAD_TOTAL, 90000);
    pthread_mutex_lock(&stop.mutex);
    stop.value = 1;
    pthread_mutex_unlock(&stop.mutex);
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        taken += workers[i].taken;
        acked += workers[i].acked;
        nacked += workers[i].nacked;
        errors += workers[i].errors;
    }
    printf("   8 threads: taken %ld, acked %ld, nacked %ld, errors %ld; sim acked %lld\n", taken, acked, nacked,
           errors, sim_acked);
    CHECK(errors == 0, "no thread saw an unexpected status");
    CHECK(sim_acked == LOAD_TOTAL, "every envelope of the load acked once");
    CHECK(nacked > 0, "some events were nacked");
    CHECK(taken == acked + nacked, "every taken event answered");
    CHECK(sim_total(&sim, "unknownAcks") == 0 && sim_total(&sim, "duplicateAcks") == 0, "no stray acks");
    CHECK(sim_total(&sim, "failedAfterRetries") == 0, "nothing lost");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    pthread_mutex_destroy(&stop.mutex);
    sim_stop(&sim);
}

/* ---- free with outstanding events ---- */

static void test_free_with_outstanding_events(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *events[8];
    int i, got;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "message", 8) == 0, "inject 8");
    got = take_events(client, events, 5, 10000);
    CHECK(got == 5, "took 5 (up to 3 may still be queued)");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_stop(client, 0), SOCKEYE_E_INVALID_HANDLE);
    for (i = 0; i < got; i++) {
        sockeye_view payload;
        CHECK_STATUS(sockeye_event_payload(events[i], &payload), SOCKEYE_OK);
        CHECK(payload.len > 2 && payload.ptr[0] == '{' && payload.ptr[payload.len - 1] == '}',
              "payload still readable after the client was freed");
        CHECK_STATUS(sockeye_ack(events[i], NULL, 0), SOCKEYE_E_STOPPED);
        CHECK_STATUS(sockeye_event_release(events[i]), SOCKEYE_OK);
    }
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- stop from a callback; runtime_free from a callback is refused ---- */

typedef struct stop_box {
    state_box state;
    sockeye_runtime *runtime;
    sockeye_status free_from_callback;
    sockeye_status stop_from_callback;
} stop_box;

static void on_event_stop(void *user, sockeye_client *client, sockeye_event *event) {
    stop_box *box = (stop_box *)user;
    sockeye_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    sockeye_client_stats(client, &stats);
    pthread_mutex_lock(&box->state.mutex);
    if (box->state.events++ == 0) {
        box->free_from_callback = sockeye_runtime_free(box->runtime);
        box->stop_from_callback = sockeye_client_stop(client, 1);
    }
    pthread_cond_broadcast(&box->state.changed);
    pthread_mutex_unlock(&box->state.mutex);
    sockeye_event_release(event);
}

static void on_state_stop(void *user, sockeye_client *client, sockeye_state state, const char *detail) {
    on_state(&((stop_box *)user)->state, client, state, detail);
}

static void test_stop_from_callback(void) {
    sim_process sim;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    stop_box box;
    if (start_sim(&sim, NULL) != 0) return;
    memset(&box, 0, sizeof box);
    state_box_init(&box.state);
    CHECK_STATUS(sockeye_runtime_new(&box.runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.on_event = on_event_stop;
    options.on_event_user = &box;
    options.on_state = on_state_stop;
    options.on_state_user = &box;
    CHECK_STATUS(sockeye_client_new(box.runtime, &options, &client), SOCKEYE_OK);
    CHECK(state_wait(&box.state, &box.state.last, SOCKEYE_STATE_RUNNING, 10000), "running");
    CHECK(sim_inject(&sim, "message", 3) == 0, "inject 3");
    CHECK(state_wait(&box.state, &box.state.stopped, 1, 10000), "stopped after stop() from the callback");
    CHECK(box.stop_from_callback == SOCKEYE_OK, "stop from a callback returns OK");
    CHECK(box.free_from_callback == SOCKEYE_E_WRONG_THREAD, "runtime_free from a callback is refused");
    CHECK(sim_wait_total(&sim, "acked", 1, 5000) >= 1, "the event that stopped it was acked (drain)");
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(box.runtime), SOCKEYE_OK);
    sim_stop(&sim);
    state_box_destroy(&box.state);
}

/* ---- free from inside a callback: no callback after it, held events stay readable ---- */

typedef struct free_box {
    state_box state;
    sockeye_status free_status;
    sockeye_status ack_after_free;
    sockeye_event *kept;
    int callbacks_after_free;
    int freed;
} free_box;

static void on_event_free(void *user, sockeye_client *client, sockeye_event *event) {
    free_box *box = (free_box *)user;
    pthread_mutex_lock(&box->state.mutex);
    if (box->freed) box->callbacks_after_free++;
    box->state.events++;
    if (!box->freed) {
        box->freed = 1;
        box->kept = event; /* keep its reference past the free */
        box->free_status = sockeye_client_free(client);
        box->ack_after_free = sockeye_ack(event, NULL, 0);
    } else {
        sockeye_event_release(event);
    }
    pthread_cond_broadcast(&box->state.changed);
    pthread_mutex_unlock(&box->state.mutex);
}

static void test_free_from_callback(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    free_box box;
    sockeye_view payload;
    if (start_sim(&sim, NULL) != 0) return;
    memset(&box, 0, sizeof box);
    state_box_init(&box.state);
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.on_event = on_event_free;
    options.on_event_user = &box;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "message", 5) == 0, "inject 5");
    CHECK(state_wait(&box.state, &box.state.events, 1, 10000), "the first event reached the callback");
    sim_sleep_ms(500);
    pthread_mutex_lock(&box.state.mutex);
    CHECK(box.free_status == SOCKEYE_OK, "sockeye_client_free from inside its own callback");
    CHECK(box.ack_after_free == SOCKEYE_E_STOPPED, "an ack after the free is SOCKEYE_E_STOPPED");
    CHECK(box.callbacks_after_free == 0, "no callback after the free");
    pthread_mutex_unlock(&box.state.mutex);
    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_E_INVALID_HANDLE);
    if (box.kept != NULL) {
        CHECK_STATUS(sockeye_event_payload(box.kept, &payload), SOCKEYE_OK);
        CHECK(payload.len > 0 && payload.ptr[0] == '{', "the kept event is still readable");
        CHECK_STATUS(sockeye_event_release(box.kept), SOCKEYE_OK);
    }
    CHECK(sim_total(&sim, "acked") == 0, "nothing acked for a client freed before it answered");
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
    state_box_destroy(&box.state);
}

/* ---- an older, smaller header ---- */

static void test_old_struct_sizes(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    /* An "old" host: only the first SOCKEYE_CLIENT_OPTIONS_MIN_SIZE bytes are its struct;
     * what follows is someone else's memory (garbage the library must not read). */
    union {
        sockeye_client_options options;
        unsigned char bytes[sizeof(sockeye_client_options) + 64];
    } old;
    union {
        sockeye_stats stats;
        unsigned char bytes[sizeof(sockeye_stats)];
    } small;
    int i, untouched = 1;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    memset(&old, 0xAB, sizeof old);
    old.options.struct_size = SOCKEYE_CLIENT_OPTIONS_MIN_SIZE;
    old.options.app_token = TOKEN;
    old.options.api_base_url = sim.api;
    old.options.pool_size = 1;
    old.options.ack_mode = SOCKEYE_ACK_MANUAL;
    old.options.ack_guard_ms = 0;
    old.options.dedup_window_s = 0;
    old.options.proxy_url = NULL;
    old.options.ca_file = NULL;
    CHECK_STATUS(sockeye_client_new(runtime, &old.options, &client), SOCKEYE_OK);
    inject_take_ack(&sim, client, 3, 3, "an old-header client works in pull mode (garbage past its struct ignored)");
    memset(&small, 0xCD, sizeof small);
    small.stats.struct_size = SOCKEYE_STATS_MIN_SIZE;
    CHECK_STATUS(sockeye_client_stats(client, &small.stats), SOCKEYE_OK);
    CHECK(small.stats.delivered == 3, "old stats struct: delivered");
    for (i = (int)SOCKEYE_STATS_MIN_SIZE; i < (int)sizeof small; i++) untouched &= small.bytes[i] == 0xCD;
    CHECK(untouched, "nothing written past an old stats struct");
    small.stats.struct_size = SOCKEYE_STATS_MIN_SIZE - 1;
    CHECK_STATUS(sockeye_client_stats(client, &small.stats), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_stats(client, NULL), SOCKEYE_E_INVALID_ARGUMENT);
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);

    /* A 0.2 host: every field up to max_message_size, none of 0.3's (the bytes where they
     * would be are garbage, which as a timeout or a bound would be refused). */
    memset(&old, 0xAB, sizeof old);
    old.options.struct_size = offsetof(sockeye_client_options, web_api_timeout_ms);
    old.options.app_token = TOKEN;
    old.options.api_base_url = sim.api;
    old.options.pool_size = 1;
    old.options.ack_mode = SOCKEYE_ACK_MANUAL;
    old.options.ack_guard_ms = 0;
    old.options.dedup_window_s = 0;
    old.options.proxy_url = NULL;
    old.options.ca_file = NULL;
    old.options.on_event = NULL;
    old.options.on_event_user = NULL;
    old.options.on_state = NULL;
    old.options.on_state_user = NULL;
    old.options.log = capture_log;
    old.options.log_user = NULL;
    old.options.log_level = SOCKEYE_LOG_DEBUG;
    old.options.max_pool_size = 0;
    old.options.max_message_size = 0;
    client = NULL;
    CHECK_STATUS(sockeye_client_new(runtime, &old.options, &client), SOCKEYE_OK);
    if (client != NULL) {
        inject_take_ack(&sim, client, 3, 6, "a 0.2-header client works in pull mode (0.3's fields take their defaults)");
        /* and its stats struct, which ends before 0.3's counters */
        memset(&small, 0xCD, sizeof small);
        small.stats.struct_size = offsetof(sockeye_stats, timeouts);
        CHECK_STATUS(sockeye_client_stats(client, &small.stats), SOCKEYE_OK);
        CHECK(small.stats.delivered == 3 && small.stats.host_acks == 3, "0.2 stats struct: its counters");
        untouched = 1;
        for (i = (int)offsetof(sockeye_stats, timeouts); i < (int)sizeof small; i++) untouched &= small.bytes[i] == 0xCD;
        CHECK(untouched, "nothing written past a 0.2 stats struct");
        CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    }
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- the pull queue's bound: a consumer that stops reading ---- */

static int compare_ids(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

#define QUEUE_BOUND 10
#define QUEUE_TOTAL 1500
/* One read per connection may still bring what it holds once the bound is reached: a read
 * is at most 256 KiB and a simulator event frame well over 512 bytes. */
#define ONE_READ_OF_EVENTS (256 * 1024 / 512)

static void test_pull_queue_bound(void) {
    /* Slack's deadline far beyond the test's stop: no redelivery, so every event is sent once
     * and what the test sees is the client's own queueing. */
    static const char *const extra[] = {"--ack-deadline", "120", NULL};
    static char ids[QUEUE_TOTAL][64];
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    uint32_t most_queued = 0;
    int taken = 0, missing_ids = 0, duplicates = 0, i;
    long long deadline;
    if (start_sim(&sim, extra) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    options.max_queued_events = QUEUE_BOUND;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    if (client == NULL) goto done;
    CHECK(wait_live(client, 1, 10000), "connected");
    for (i = 0; i < QUEUE_TOTAL / 100; i++) CHECK(sim_inject(&sim, "message", 100) == 0, "inject 100");

    /* The consumer takes nothing: the client stops reading at the bound. */
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    deadline = sim_now_ms() + 30000;
    while (sim_now_ms() < deadline) {
        CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
        if (stats.queued > most_queued) most_queued = stats.queued;
        if (stats.intake_pauses >= 1) break;
        sim_sleep_ms(20);
    }
    CHECK(stats.intake_pauses >= 1, "the client stopped reading at the bound");
    /* and stays stopped while the consumer keeps not taking */
    for (i = 0; i < 20; i++) {
        sim_sleep_ms(50);
        CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
        if (stats.queued > most_queued) most_queued = stats.queued;
    }
    printf("   bound %d: queued %u (most seen %u), peak %llu, pauses %llu, delivered %llu of %d\n", QUEUE_BOUND,
           stats.queued, most_queued, (unsigned long long)stats.peak_queued, (unsigned long long)stats.intake_pauses,
           (unsigned long long)stats.delivered, QUEUE_TOTAL);
    CHECK(stats.intake_pauses == 1, "one pause: nothing was taken, so reading never resumed");
    CHECK(stats.peak_queued >= QUEUE_BOUND, "peak_queued reached the bound");
    CHECK(stats.peak_queued < QUEUE_BOUND + ONE_READ_OF_EVENTS, "peak_queued: the bound plus one read at most");
    CHECK(most_queued <= stats.peak_queued, "queued never above peak_queued");
    CHECK(stats.delivered < QUEUE_TOTAL, "the client did not take in everything Slack sent");
    CHECK(sim_total(&sim, "acked") == 0, "nothing queued was acked before the consumer took it");

    /* The consumer resumes: every event arrives, once. */
    deadline = sim_now_ms() + 60000;
    while (taken < QUEUE_TOTAL && sim_now_ms() < deadline) {
        sockeye_event *event = NULL;
        sockeye_view id;
        sockeye_status status = sockeye_client_next_event(client, 100, &event);
        if (status == SOCKEYE_E_TIMEOUT) continue;
        CHECK_STATUS(status, SOCKEYE_OK);
        if (status != SOCKEYE_OK) break;
        if (sockeye_event_event_id(event, &id) == SOCKEYE_OK && (id.flags & SOCKEYE_VIEW_PRESENT) != 0 &&
            id.len < sizeof ids[0]) {
            memcpy(ids[taken], id.ptr, id.len);
            ids[taken][id.len] = 0;
        } else {
            missing_ids++;
            snprintf(ids[taken], sizeof ids[0], "missing-%d", taken);
        }
        taken++;
        CHECK_STATUS(sockeye_ack(event, NULL, 0), SOCKEYE_OK);
        CHECK_STATUS(sockeye_event_release(event), SOCKEYE_OK);
    }
    CHECK(taken == QUEUE_TOTAL, "every event arrived once the consumer took them");
    CHECK(missing_ids == 0, "every event has an event_id");
    qsort(ids, (size_t)taken, sizeof ids[0], compare_ids);
    for (i = 1; i < taken; i++) duplicates += strcmp(ids[i - 1], ids[i]) == 0;
    CHECK(duplicates == 0, "no event arrived twice");
    CHECK(sim_wait_total(&sim, "acked", QUEUE_TOTAL, 30000) == QUEUE_TOTAL, "sim saw every ack");
    CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
    CHECK(stats.queued == 0 && stats.peak_queued < QUEUE_BOUND + ONE_READ_OF_EVENTS,
          "queue empty; its peak never far above the bound");
    {
        sockeye_event *extra_event = NULL;
        CHECK_STATUS(sockeye_client_next_event(client, 300, &extra_event), SOCKEYE_E_TIMEOUT);
        if (extra_event != NULL) sockeye_event_release(extra_event);
    }
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
done:
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    CHECK(sim_total(&sim, "unknownAcks") == 0 && sim_total(&sim, "duplicateAcks") == 0, "no stray acks");
    sim_stop(&sim);
}

/* ---- the Web API deadline: an API server that accepts and never answers ---- */

static void test_web_api_timeout(void) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    sim_process silent; /* only its `api` field: the URL of the silent server */
    long long deadline;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listener >= 0, "socket");
    if (listener < 0) return;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    /* The kernel completes TCP handshakes into the backlog; nothing is ever read or sent. */
    CHECK(bind(listener, (struct sockaddr *)&address, sizeof address) == 0 && listen(listener, 64) == 0 &&
              getsockname(listener, (struct sockaddr *)&address, &length) == 0,
          "a listening socket on 127.0.0.1");
    memset(&silent, 0, sizeof silent);
    snprintf(silent.api, sizeof silent.api, "http://127.0.0.1:%d/api/", (int)ntohs(address.sin_port));

    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &silent);
    options.web_api_timeout_ms = 200;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    if (client != NULL) {
        memset(&stats, 0, sizeof stats);
        stats.struct_size = sizeof stats;
        deadline = sim_now_ms() + 30000;
        while (sim_now_ms() < deadline) {
            CHECK_STATUS(sockeye_client_stats(client, &stats), SOCKEYE_OK);
            if (stats.timeouts >= 2) break;
            sim_sleep_ms(20);
        }
        printf("   timeouts %llu, open_errors %llu, transport_errors %llu\n", (unsigned long long)stats.timeouts,
               (unsigned long long)stats.open_errors, (unsigned long long)stats.transport_errors);
        CHECK(stats.timeouts >= 2, "each apps.connections.open timed out, and the client asked again");
        CHECK(stats.transport_errors >= stats.timeouts, "timeouts are transport errors");
        CHECK(stats.open_errors >= 1, "a failed apps.connections.open");
        CHECK(stats.connections_live == 0 && stats.state == SOCKEYE_STATE_CONNECTING, "still connecting, not failed");
        CHECK(log_contains("no answer to apps.connections.open within 200 ms"), "the log names the deadline set");
        CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    }
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    close(listener);
}

/* ---- a token Slack refuses: failed, never a reconnect loop ---- */

static void test_fatal_token(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *event = NULL;
    sockeye_status status = SOCKEYE_E_TIMEOUT;
    long long deadline;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.app_token = "xapp-1-A0UNKNOWN-1-notregisteredsecret";
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    deadline = sim_now_ms() + 10000;
    while (status == SOCKEYE_E_TIMEOUT && sim_now_ms() < deadline) status = sockeye_client_next_event(client, 100, &event);
    CHECK(status == SOCKEYE_E_FAILED, "next_event reports FAILED for a token Slack refuses");
    CHECK(log_contains("invalid_auth"), "the log says why");
    CHECK(!log_contains("notregisteredsecret"), "the log never shows the token");
    CHECK_STATUS(sockeye_client_stop(client, 0), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    sim_stop(&sim);
}

/* ---- runtime freed under live clients ---- */

static void test_runtime_free_with_live_client(void) {
    sim_process sim;
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_event *event = NULL;
    if (start_sim(&sim, NULL) != 0) return;
    CHECK_STATUS(sockeye_runtime_new(&runtime), SOCKEYE_OK);
    default_options(&options, &sim);
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    CHECK_STATUS(sockeye_client_new(runtime, &options, &client), SOCKEYE_OK);
    sim_sleep_ms(300);
    CHECK(sim_inject(&sim, "message", 1) == 0, "inject 1");
    CHECK(take_events(client, &event, 1, 10000) == 1, "one event");
    CHECK_STATUS(sockeye_runtime_free(runtime), SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_next_event(client, 1000, &event) == SOCKEYE_E_STOPPED ? SOCKEYE_OK : SOCKEYE_E_TIMEOUT,
                 SOCKEYE_OK);
    CHECK_STATUS(sockeye_client_stop(client, 1), SOCKEYE_OK);
    if (event != NULL) {
        CHECK_STATUS(sockeye_ack(event, NULL, 0), SOCKEYE_E_STOPPED);
        CHECK_STATUS(sockeye_event_release(event), SOCKEYE_OK);
    }
    CHECK_STATUS(sockeye_client_free(client), SOCKEYE_OK);
    sim_stop(&sim);
}

typedef struct named_test {
    const char *name;
    void (*run)(void);
} named_test;

int main(int argc, char **argv) {
    static const named_test tests[] = {
        {"version_and_strings", test_version_and_strings},
        {"bad_input", test_bad_input},
        {"callback_after_handler", test_callback_after_handler},
        {"pull_eventfd_manual", test_pull_eventfd_manual},
        {"next_events_batch", test_next_events_batch},
        {"on_receipt", test_on_receipt},
        {"pull_after_handler_release_acks", test_pull_after_handler_release_acks},
        {"response_payloads", test_response_payloads},
        {"nack_redelivery", test_nack_redelivery},
        {"eight_threads", test_eight_threads},
        {"free_with_outstanding_events", test_free_with_outstanding_events},
        {"stop_from_callback", test_stop_from_callback},
        {"free_from_callback", test_free_from_callback},
        {"old_struct_sizes", test_old_struct_sizes},
        {"fatal_token", test_fatal_token},
        {"runtime_free_with_live_client", test_runtime_free_with_live_client},
        {"pull_queue_bound", test_pull_queue_bound},
        {"web_api_timeout", test_web_api_timeout},
    };
    size_t i;
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH/TO/sockeye-sim [test-name-substring]\n", argv[0]);
        return 2;
    }
    sim_binary = argv[1];
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        long long start = sim_now_ms();
        if (argc > 2 && strstr(tests[i].name, argv[2]) == NULL) continue;
        tests[i].run();
        printf("%s %s (%lld ms)\n", failed == before ? "ok" : "FAILED", tests[i].name, sim_now_ms() - start);
        fflush(stdout);
    }
    CHECK(log_lines > 0, "the log callback was called");
    CHECK(!log_contains(SECRET), "no log line contains the app token's secret");
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
