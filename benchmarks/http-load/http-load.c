/*
 * http-load: posts Slack-signed Events API requests to an HTTP endpoint as fast as they are
 * answered, over keep-alive connections, one request in flight per connection (as Slack
 * sends them: no pipelining), and prints one JSON line of figures.
 *
 *   http-load --url http://127.0.0.1:PORT/slack/events --secret SECRET
 *             [--connections 32] [--total 100000] [--size 1024]
 *
 * Every request is a distinct `event_callback` (its own event_id, so a de-duplicating
 * receiver takes each one), signed like Slack signs it: X-Slack-Request-Timestamp and
 * X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
 * Output: requests sent, 2xx answers, other answers, connection errors, seconds, requests
 * per second, latency p50/p99/max (send to complete answer), and the generator's own CPU
 * seconds, so a benchmark can tell whether the generator was the limit.
 * Exit status 0 when every request got a 2xx answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define READ_BUFFER 65536

struct connection {
    int fd;
    char *request;       /* the request being sent */
    size_t request_len;
    size_t sent;
    char in[READ_BUFFER];
    size_t in_len;
    double started;      /* when the request's first byte was written */
    int busy;            /* a request is out */
    long served;         /* answers received on this connection */
    int closing;         /* the last answer said Connection: close */
};

static const char *host = "127.0.0.1";
static int port = 80;
static const char *path = "/";
static const char *secret = "";
static long total = 100000;
static int connections = 32;
static int size = 1024;
static long next_index = 0, answered = 0, ok = 0, not_ok = 0, errors = 0;
static double *latencies;
static char run_id[9];

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *message) {
    fprintf(stderr, "http-load: %s\n", message);
    exit(2);
}

/* Parses http://host:port/path (IPv4 literal hosts only: the benchmarks stay on loopback). */
static void parse_url(const char *url) {
    static char host_buffer[256];
    if (strncmp(url, "http://", 7) != 0) die("the URL must start with http://");
    const char *rest = url + 7;
    const char *slash = strchr(rest, '/');
    const char *colon = memchr(rest, ':', slash ? (size_t)(slash - rest) : strlen(rest));
    size_t host_len = colon ? (size_t)(colon - rest) : (slash ? (size_t)(slash - rest) : strlen(rest));
    if (host_len == 0 || host_len >= sizeof host_buffer) die("bad host in the URL");
    memcpy(host_buffer, rest, host_len);
    host_buffer[host_len] = 0;
    host = host_buffer;
    port = colon ? atoi(colon + 1) : 80;
    path = slash ? slash : "/";
}

/* Builds request `index`: a signed event_callback of about `size` bytes. */
static char *build_request(long index, size_t *out_len) {
    static char body[70000];
    int padding = size - 330;
    if (padding < 1) padding = 1;
    if (padding > 65000) padding = 65000;
    int body_len = snprintf(body, sizeof body,
        "{\"token\":\"verification\",\"team_id\":\"T0LOAD0001\",\"api_app_id\":\"A0LOAD0001\","
        "\"event\":{\"type\":\"message\",\"channel\":\"C0LOAD0001\",\"user\":\"U0LOAD0001\","
        "\"text\":\"%.*s\",\"ts\":\"1700000000.%06ld\"},"
        "\"type\":\"event_callback\",\"event_id\":\"Ev%s%010ld\",\"event_time\":1700000000}",
        padding, "", index % 1000000, run_id, index);
    /* %.*s of "" prints nothing: fill the text with letters instead. */
    char *text = strstr(body, "\"text\":\"") + 8;
    memmove(text + padding, text, (size_t)body_len - (size_t)(text - body) + 1);
    memset(text, 'x', (size_t)padding);
    body_len += padding;

    char timestamp[32];
    int ts_len = snprintf(timestamp, sizeof timestamp, "%ld", (long)time(NULL));
    static char base[70100];
    int base_len = snprintf(base, sizeof base, "v0:%s:", timestamp);
    memcpy(base + base_len, body, (size_t)body_len);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)base, (size_t)(base_len + body_len), mac, &mac_len);
    char signature[68] = "v0=";
    for (unsigned i = 0; i < mac_len; i++) sprintf(signature + 3 + 2 * i, "%02x", mac[i]);

    size_t capacity = (size_t)body_len + 512;
    char *request = malloc(capacity);
    if (!request) die("out of memory");
    int head_len = snprintf(request, capacity,
        "POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
        "Content-Type: application/json\r\nX-Slack-Request-Timestamp: %.*s\r\nX-Slack-Signature: %s\r\n"
        "Content-Length: %d\r\n\r\n", path, host, port, ts_len, timestamp, signature, body_len);
    memcpy(request + head_len, body, (size_t)body_len);
    *out_len = (size_t)head_len + (size_t)body_len;
    return request;
}

static int open_connection(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("the host must be an IPv4 address");
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes what is left of the connection's request; 0 when done or waiting, -1 on error. */
static int flush_request(struct connection *c) {
    while (c->sent < c->request_len) {
        ssize_t n = send(c->fd, c->request + c->sent, c->request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        c->sent += (size_t)n;
    }
    return 0;
}

static void start_request(struct connection *c) {
    if (next_index >= total) {
        c->busy = 0;
        return;
    }
    free(c->request);
    c->request = build_request(next_index++, &c->request_len);
    c->sent = 0;
    c->busy = 1;
    c->started = now_seconds();
}

/* A complete response at the start of c->in: its length (head + body), or 0 if incomplete.
   Sets *status. 1xx responses are skipped by the caller. */
static size_t complete_response(struct connection *c, int *status, int *closes) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head_len = (size_t)(end - c->in) + 4;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.", 7) != 0) return (size_t)-1;
    *status = atoi(c->in + 9);
    long length = 0;
    for (char *line = c->in; line < end; ) {
        char *next = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!next) break;
        if ((size_t)(next - line) > 15 && strncasecmp(line, "content-length:", 15) == 0) length = atol(line + 15);
        if ((size_t)(next - line) >= 17 && strncasecmp(line, "connection:", 11) == 0
            && memmem(line, (size_t)(next - line), "close", 5)) *closes = 1;
        line = next + 2;
    }
    if (c->in_len < head_len + (size_t)length) return 0;
    return head_len + (size_t)length;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *url = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url")) url = argv[i + 1];
        else if (!strcmp(argv[i], "--secret")) secret = argv[i + 1];
        else if (!strcmp(argv[i], "--connections")) connections = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--total")) total = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else die("unknown option (see the comment at the top of http-load.c)");
    }
    if (!url) die("--url is required");
    if (connections < 1 || connections > MAX_CONNECTIONS || total < 1) die("bad --connections or --total");
    parse_url(url);
    snprintf(run_id, sizeof run_id, "%08lx", (unsigned long)(now_seconds() * 1000) & 0xffffffffUL);
    latencies = calloc((size_t)total, sizeof(double));
    struct connection *pool = calloc((size_t)connections, sizeof(struct connection));
    if (!latencies || !pool) die("out of memory");
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    double began = now_seconds();
    for (int i = 0; i < connections; i++) {
        pool[i].fd = open_connection();
        if (pool[i].fd < 0) die("cannot connect");
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, pool[i].fd, &event);
        start_request(&pool[i]);
    }
    struct epoll_event events[MAX_CONNECTIONS];
    while (answered + errors < total) {
        int ready = epoll_wait(epoll, events, MAX_CONNECTIONS, 10000);
        if (ready == 0) {
            fprintf(stderr, "http-load: no answer for 10 s\n");
            break;
        }
        for (int e = 0; e < ready; e++) {
            struct connection *c = &pool[events[e].data.u32];
            int failed = (events[e].events & (EPOLLERR | EPOLLHUP)) != 0;
            if (!failed && c->busy && flush_request(c) < 0) failed = 1;
            if (!failed && (events[e].events & EPOLLIN)) {
                ssize_t n = recv(c->fd, c->in + c->in_len, READ_BUFFER - c->in_len, 0);
                if (n == 0 || (n < 0 && errno != EAGAIN)) failed = 1;
                else if (n > 0) c->in_len += (size_t)n;
                int status = 0, closes = 0;
                size_t length;
                while (!failed && !c->closing && (length = complete_response(c, &status, &closes)) != 0) {
                    if (length == (size_t)-1) { failed = 1; break; }
                    memmove(c->in, c->in + length, c->in_len - length);
                    c->in_len -= length;
                    if (status >= 100 && status < 200) continue;
                    if (c->busy) {
                        latencies[answered] = now_seconds() - c->started;
                        answered++;
                        c->served++;
                        c->busy = 0;
                        if (status >= 200 && status < 300) ok++; else not_ok++;
                        if (closes) {
                            /* The server ends the connection: the next request goes on a new one. */
                            c->closing = 1;
                            failed = 1;
                            break;
                        }
                        start_request(c);
                        if (c->busy && flush_request(c) < 0) failed = 1;
                    }
                }
            }
            if (failed) {
                /* A request sent on a reused connection the server had closed (no byte of its
                   answer came) is sent again on a new one, as HTTP clients do; any other
                   request in hand is counted as an error. The connection is opened again. */
                int resend = c->busy && c->served > 0 && c->in_len == 0 && !c->closing;
                if (c->busy && !resend) { errors++; c->busy = 0; }
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->in_len = 0;
                c->served = 0;
                c->closing = 0;
                if (resend) {
                    c->sent = 0;
                    c->started = now_seconds();
                } else {
                    start_request(c);
                }
                if (!c->busy) {
                    /* Nothing left to send: the connection stays closed. */
                    c->fd = -1;
                    continue;
                }
                c->fd = open_connection();
                if (c->fd < 0) die("cannot connect again");
                struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u32 = events[e].data.u32};
                epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
            } else if (c->busy) {
                /* Wait for the answer, or for room to send the rest. */
                uint32_t wanted = c->sent == c->request_len ? EPOLLIN : (EPOLLIN | EPOLLOUT);
                struct epoll_event event = {.events = wanted, .data.u32 = events[e].data.u32};
                epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
            }
        }
    }
    double seconds = now_seconds() - began;
    qsort(latencies, (size_t)answered, sizeof(double), compare);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6
               + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    double p50 = answered ? latencies[answered / 2] * 1000 : 0;
    double p99 = answered ? latencies[(long)((double)answered * 0.99)] * 1000 : 0;
    double max = answered ? latencies[answered - 1] * 1000 : 0;
    printf("{\"requests\":%ld,\"ok\":%ld,\"not_ok\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rate\":%.1f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"cpu_seconds\":%.3f,\"connections\":%d,\"size\":%d}\n",
           total, ok, not_ok, errors, seconds, (double)answered / seconds, p50, p99, max, cpu, connections, size);
    return ok == total ? 0 : 1;
}
