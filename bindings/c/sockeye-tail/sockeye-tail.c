/*
 * sockeye-tail: prints every Slack Socket Mode envelope as one JSON line, with a short
 * human summary on stderr, and answers slash commands in the ack.
 *
 * Shows: the pull queue and its eventfd inside the host's own poll loop (next to a
 * signal pipe), manual acks with a response payload, a graceful drain on SIGINT/SIGTERM
 * and the client's stats at the end. See README.md.
 *
 * Environment: SLACK_APP_TOKEN (required, xapp-…), SOCKEYE_API_URL (default Slack's),
 * HTTPS_PROXY / NO_PROXY (read by the library), SOCKEYE_LOG (error|warn|info|debug).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sockeye.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Events taken per call: each is printed and acked at once, well within Slack's 3 s. */
#define BATCH 32

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    if (write(signal_pipe[1], &byte, 1) < 0) { /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

static void log_line(void *user, sockeye_log_level level, const char *message) {
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    (void)user;
    fprintf(stderr, "sockeye %s: %s\n", names[level <= SOCKEYE_LOG_DEBUG ? level : 0], message);
}

/* Writes a view as a JSON value: strings stay as they were on the wire (already escaped),
 * absent fields become null. */
static void put_string(const char *key, const sockeye_view *view, int comma) {
    if (view->flags & SOCKEYE_VIEW_PRESENT) printf("%s\"%s\":\"%.*s\"", comma ? "," : "", key, (int)view->len, view->ptr);
    else printf("%s\"%s\":null", comma ? "," : "", key);
}

static const char *text_of(json_t *object, const char *key) {
    const char *text = json_string_value(json_object_get(object, key));
    return text ? text : "?";
}

/* One human line about the payload, parsed with jansson. */
static void summarize(int32_t kind, json_t *payload) {
    if (kind == SOCKEYE_MESSAGE_EVENTS_API) {
        json_t *event = json_object_get(payload, "event");
        fprintf(stderr, "# %s from %s in %s: %.60s\n", text_of(event, "type"), text_of(event, "user"),
                text_of(event, "channel"), text_of(event, "text"));
    } else if (kind == SOCKEYE_MESSAGE_SLASH_COMMANDS) {
        fprintf(stderr, "# %s %.60s (from %s)\n", text_of(payload, "command"), text_of(payload, "text"),
                text_of(payload, "user_name"));
    } else if (kind == SOCKEYE_MESSAGE_INTERACTIVE) {
        fprintf(stderr, "# %s by %s\n", text_of(payload, "type"), text_of(json_object_get(payload, "user"), "name"));
    } else {
        fprintf(stderr, "# an envelope of a kind this version does not know\n");
    }
}

/* One event, all of its fields filled by `sockeye_client_next_events`. */
static void handle(const sockeye_event_info *info) {
    sockeye_event *event = info->event;
    const sockeye_view *payload = &info->payload;
    int32_t kind = info->kind;
    json_t *parsed;
    json_error_t error;
    sockeye_status status;

    printf("{");
    put_string("type", &info->type, 0);
    put_string("envelope_id", &info->envelope_id, 1);
    put_string("event_type", &info->event_type, 1);
    put_string("team_id", &info->team_id, 1);
    put_string("event_id", &info->event_id, 1);
    printf(",\"retry_attempt\":%" PRId64 ",\"payload\":%.*s}\n", info->retry_attempt, (int)payload->len,
           payload->len ? payload->ptr : "null");
    fflush(stdout);

    parsed = json_loadb(payload->ptr, payload->len, 0, &error);
    if (parsed == NULL) {
        fprintf(stderr, "# payload did not parse: %s\n", error.text);
        status = sockeye_ack(event, NULL, 0);
    } else {
        summarize(kind, parsed);
        if (kind == SOCKEYE_MESSAGE_SLASH_COMMANDS && info->accepts_response_payload) {
            /* Answer the command in the ack: Slack shows this text to the user. */
            char text[512];
            char *answer;
            json_t *response;
            snprintf(text, sizeof text, "sockeye-tail got %s %s", text_of(parsed, "command"), text_of(parsed, "text"));
            response = json_pack("{s:s}", "text", text);
            answer = json_dumps(response, JSON_COMPACT);
            status = sockeye_ack(event, answer, strlen(answer));
            free(answer);
            json_decref(response);
        } else {
            status = sockeye_ack(event, NULL, 0);
        }
        json_decref(parsed);
    }
    if (status != SOCKEYE_OK) fprintf(stderr, "sockeye-tail: ack: %s\n", sockeye_strerror(status));
    sockeye_event_release(event);
}

static void print_stats(sockeye_client *client) {
    sockeye_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    if (sockeye_client_stats(client, &stats) != SOCKEYE_OK) return;
    fprintf(stderr,
            "sockeye-tail: %s; received %" PRIu64 ", delivered %" PRIu64 ", acked %" PRIu64 ", nacked %" PRIu64
            ", de-duplicated %" PRIu64 ", redelivered %" PRIu64 ", ack-guarded %" PRIu64 ", late acks %" PRIu64
            "; reconnects: lost %" PRIu64 ", refreshed %" PRIu64 ", too many %" PRIu64 "; open errors %" PRIu64
            "; ack latency p50 %" PRIu64 " us, p99 %" PRIu64 " us, max %" PRIu64 " us\n",
            sockeye_state_name(stats.state), stats.received, stats.delivered, stats.acked, stats.nacked,
            stats.deduplicated, stats.redelivered, stats.ack_guarded, stats.late_acks, stats.reconnects_lost,
            stats.reconnects_refresh, stats.reconnects_too_many, stats.open_errors, stats.ack_latency_p50_us,
            stats.ack_latency_p99_us, stats.ack_latency_max_us);
}

static int32_t log_level_from(const char *name) {
    if (name == NULL || strcmp(name, "info") == 0) return SOCKEYE_LOG_INFO;
    if (strcmp(name, "error") == 0) return SOCKEYE_LOG_ERROR;
    if (strcmp(name, "warn") == 0) return SOCKEYE_LOG_WARN;
    if (strcmp(name, "debug") == 0) return SOCKEYE_LOG_DEBUG;
    return SOCKEYE_LOG_INFO;
}

int main(void) {
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    struct sigaction action;
    struct pollfd fds[2];
    sockeye_status status;
    int stopping = 0;
    int done = 0;
    int exit_code = 0;

    memset(&options, 0, sizeof options);
    options.struct_size = sizeof options;
    options.app_token = getenv("SLACK_APP_TOKEN");
    options.api_base_url = getenv("SOCKEYE_API_URL"); /* NULL: https://slack.com/api/ */
    options.ack_mode = SOCKEYE_ACK_MANUAL;             /* slash commands are answered in the ack */
    options.log = log_line;
    options.log_level = log_level_from(getenv("SOCKEYE_LOG"));
    if (options.app_token == NULL) {
        fprintf(stderr, "sockeye-tail: set SLACK_APP_TOKEN to the app-level token (xapp-…)\n");
        return 2;
    }

    if (pipe(signal_pipe) != 0) return 1;
    fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK);
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    if ((status = sockeye_runtime_new(&runtime)) != SOCKEYE_OK ||
        (status = sockeye_client_new(runtime, &options, &client)) != SOCKEYE_OK) {
        fprintf(stderr, "sockeye-tail: %s\n", sockeye_strerror(status));
        if (runtime) sockeye_runtime_free(runtime);
        return 1;
    }
    fprintf(stderr, "sockeye-tail: libsockeye %s; Ctrl-C to stop\n", sockeye_version());
    sockeye_client_event_fd(client, &fds[0].fd);
    fds[0].events = POLLIN;
    fds[1].fd = signal_pipe[0];
    fds[1].events = POLLIN;

    while (!done) {
        sockeye_event_info batch[BATCH];
        size_t taken = 0;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & POLLIN) {
            unsigned char byte;
            if (read(signal_pipe[0], &byte, 1) == 1 && !stopping) {
                stopping = 1;
                fprintf(stderr, "sockeye-tail: stopping (draining acks)\n");
                sockeye_client_stop(client, 1);
            }
        }
        if (!(fds[0].revents & POLLIN)) continue;
        /* Take everything queued, a batch per call (each with all of its fields); the
         * eventfd stays readable until the queue is empty. */
        batch[0].struct_size = sizeof batch[0];
        while ((status = sockeye_client_next_events(client, 0, batch, BATCH, &taken)) == SOCKEYE_OK) {
            size_t i;
            for (i = 0; i < taken; i++) handle(&batch[i]);
            batch[0].struct_size = sizeof batch[0];
        }
        if (status == SOCKEYE_E_STOPPED) done = 1;
        if (status == SOCKEYE_E_FAILED && !stopping) {
            fprintf(stderr, "sockeye-tail: the client gave up (see the log above)\n");
            sockeye_client_stop(client, 0);
            exit_code = 1;
            stopping = 1;
        }
    }
    print_stats(client);
    sockeye_client_free(client);
    sockeye_runtime_free(runtime);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    return exit_code;
}
