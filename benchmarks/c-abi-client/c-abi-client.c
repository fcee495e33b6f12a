/*
 * c-abi-client: the C host of benchmarks/run, through libsockeye's C ABI.
 *
 *   c-abi-client --mode pull       a consumer thread takes events from the pull queue
 *                                  (blocking sockeye_client_next_event) and acks each
 *   c-abi-client --mode callback   the event callback acks each on the service thread
 *
 * Manual acks, like the Swift API's bench client, so the two rows compare the same work.
 * SLACK_APP_TOKEN, SOCKEYE_API_URL, SSL_CERT_FILE (wss) and SOCKEYE_POOL_SIZE (default 1)
 * from the environment. On SIGTERM/SIGINT: stop with drain, then one JSON line.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <sockeye.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested = 0;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int stopped = 0;
static unsigned long long received = 0;
static unsigned long long ack_errors = 0;

static void on_signal(int signo) {
    (void)signo;
    stop_requested = 1;
}

static void ack_and_release(sockeye_event *event) {
    if (sockeye_ack(event, NULL, 0) != SOCKEYE_OK) ack_errors++;
    sockeye_event_release(event);
}

/* Callback mode: runs on the service thread. */
static void on_event(void *user, sockeye_client *client, sockeye_event *event) {
    (void)user;
    (void)client;
    received++;
    ack_and_release(event);
}

static void on_state(void *user, sockeye_client *client, sockeye_state state, const char *detail) {
    (void)user;
    (void)client;
    (void)detail;
    if (state != SOCKEYE_STATE_STOPPED) return;
    pthread_mutex_lock(&mutex);
    stopped = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&mutex);
}

int main(int argc, char **argv) {
    sockeye_runtime *runtime = NULL;
    sockeye_client *client = NULL;
    sockeye_client_options options;
    sockeye_stats stats;
    struct sigaction action;
    int callback = argc > 2 && strcmp(argv[1], "--mode") == 0 && strcmp(argv[2], "callback") == 0;
    const char *pool = getenv("SOCKEYE_POOL_SIZE");
    sockeye_status status;

    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    memset(&options, 0, sizeof options);
    options.struct_size = sizeof options;
    options.app_token = getenv("SLACK_APP_TOKEN");
    options.api_base_url = getenv("SOCKEYE_API_URL");
    options.pool_size = pool ? atoi(pool) : 1;
    options.ack_mode = SOCKEYE_ACK_MANUAL;
    options.on_state = on_state;
    if (callback) options.on_event = on_event;
    if ((status = sockeye_runtime_new(&runtime)) != SOCKEYE_OK ||
        (status = sockeye_client_new(runtime, &options, &client)) != SOCKEYE_OK) {
        fprintf(stderr, "c-abi-client: %s\n", sockeye_strerror(status));
        return 2;
    }
    if (callback) {
        while (!stop_requested) {
            struct timespec pause = {0, 20 * 1000000L};
            nanosleep(&pause, NULL);
        }
        sockeye_client_stop(client, 1);
        pthread_mutex_lock(&mutex);
        while (!stopped) pthread_cond_wait(&changed, &mutex);
        pthread_mutex_unlock(&mutex);
    } else {
        int stopping = 0;
        for (;;) {
            sockeye_event *event = NULL;
            if (stop_requested && !stopping) {
                stopping = 1;
                sockeye_client_stop(client, 1);
            }
            status = sockeye_client_next_event(client, 50, &event);
            if (status == SOCKEYE_OK) {
                received++;
                ack_and_release(event);
            } else if (status != SOCKEYE_E_TIMEOUT) {
                break;
            }
        }
    }
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    sockeye_client_stats(client, &stats);
    printf("{\"received\": %llu, \"ackErrors\": %llu, \"hostAcks\": %llu, \"ackLatencyP50Us\": %llu, "
           "\"ackLatencyP99Us\": %llu}\n",
           received, ack_errors, (unsigned long long)stats.host_acks, (unsigned long long)stats.ack_latency_p50_us,
           (unsigned long long)stats.ack_latency_p99_us);
    fflush(stdout);
    sockeye_client_free(client);
    sockeye_runtime_free(runtime);
    return 0;
}
