/*
 * ack-client: the smallest useful Socket Mode client, used as the limit in benchmarks.
 * It opens N connections (each through apps.connections.open), and answers every
 * envelope with {"envelope_id":"…"} — nothing else. Acks are coalesced: each writeable
 * callback sends all queued ack frames in one write (frames masked with a zero key,
 * which RFC 6455 permits syntactically; fine for a loopback benchmark).
 *
 * libwebsockets' client rx parser walks every payload byte (~4 µs per 1 KB envelope on
 * this class of machine), which would make this client, not the simulator, the limit at
 * ~165k envelopes/s. So by default, once lws has completed the handshake and delivered
 * `hello`, the client stops lws reading (lws_rx_flow_control) and parses frames itself
 * on a dup of the socket: a bulk read, a header walk, a memcmp for the envelope id.
 * `--lws-rx` keeps lws on the data path for comparison.
 *
 * usage: ack-client --port P [--token xapp-…] [--connections N] [--duration S] [--lws-rx]
 */
#define _GNU_SOURCE /* memmem */
#include <libwebsockets.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 10
#define ACK_FRAME 60 /* 6-byte header (masked, <126) + 54-byte body */
#define OUT_CAP (ACK_FRAME * 8192)

struct conn {
    struct lws *wsi;
    unsigned char out[LWS_PRE + OUT_CAP];
    size_t out_len;
    unsigned char *rx; /* reassembly for fragmented messages (not expected from the sim) */
    size_t rx_len, rx_cap;
    unsigned long acks;
    int closed;
    int raw_fd; /* >= 0 once the client parses frames itself */
    unsigned char *in;
    size_t in_len;
};

#define IN_CAP (4u << 20)
static int lws_rx;

static struct conn conns[MAX_CONNS];
static int n_conns = 1;
static int port;
static const char *token = "xapp-1-A0SIMAPP01-1-simsecret";
static volatile sig_atomic_t interrupted;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* POST /api/apps.connections.open over a plain socket; writes the URL's path+query. */
static int open_url(char *path, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /api/apps.connections.open HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n", port, token);
    if (write(fd, req, (size_t)n) != n) { close(fd); return -1; }
    char res[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof res - 1 && (r = read(fd, res + got, sizeof res - 1 - got)) > 0) got += (size_t)r;
    close(fd);
    res[got] = 0;
    char *u = strstr(res, "\"url\":\"");
    if (!u) { fprintf(stderr, "apps.connections.open failed: %s\n", res); return -1; }
    u = strstr(u, "/link/");
    char *end = u ? strchr(u, '"') : NULL;
    if (!u || !end || (size_t)(end - u) >= cap) return -1;
    memcpy(path, u, (size_t)(end - u));
    path[end - u] = 0;
    return 0;
}

static void queue_ack(struct conn *c, const unsigned char *msg, size_t len) {
    static const char key[] = "\"envelope_id\":\"";
    const unsigned char *p = memmem(msg, len, key, sizeof key - 1);
    if (!p || (size_t)(p - msg) + sizeof key - 1 + 36 > len) return;
    p += sizeof key - 1;
    if (c->out_len + ACK_FRAME > OUT_CAP) return; /* window larger than buffer: drop (counted by sim) */
    unsigned char *f = c->out + LWS_PRE + c->out_len;
    f[0] = 0x81;
    f[1] = 0x80 | 54;
    memset(f + 2, 0, 4);
    memcpy(f + 6, "{\"envelope_id\":\"", 16);
    memcpy(f + 22, p, 36);
    memcpy(f + 58, "\"}", 2);
    c->out_len += ACK_FRAME;
    c->acks++;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct conn *c = (struct conn *)lws_get_opaque_user_data(wsi);
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "connect error: %s\n", in ? (const char *)in : "?");
        if (c) c->closed = 1;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (!c) break;
        int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
        if (c->rx_len == 0 && final) {
            queue_ack(c, in, len);
        } else {
            if (c->rx_len + len > c->rx_cap) {
                c->rx_cap = (c->rx_len + len) * 2;
                c->rx = realloc(c->rx, c->rx_cap);
                if (!c->rx) return -1;
            }
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
            if (final) { queue_ack(c, c->rx, c->rx_len); c->rx_len = 0; }
        }
        if (c->out_len) lws_callback_on_writable(wsi);
        if (!lws_rx && final && c->raw_fd < 0) {
            /* hello seen: take over the data path (see the header comment). */
            c->raw_fd = dup(lws_get_socket_fd(wsi));
            lws_rx_flow_control(wsi, 0);
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c && c->out_len) {
            size_t n = c->out_len;
            c->out_len = 0;
            if (lws_write(wsi, c->out + LWS_PRE, n, LWS_WRITE_HTTP /* raw: pre-framed */) < 0) return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) c->closed = 1;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "sockeye-ack-client", callback, 0, 262144, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Parses complete frames in c->in, queues acks (and pongs), keeps any partial frame. */
static void raw_parse(struct conn *c) {
    size_t p = 0;
    while (c->in_len - p >= 2) {
        unsigned char *h = c->in + p;
        size_t len = h[1] & 0x7f, hl = 2;
        if (len == 126) { if (c->in_len - p < 4) break; len = ((size_t)h[2] << 8) | h[3]; hl = 4; }
        else if (len == 127) {
            if (c->in_len - p < 10) break;
            len = 0;
            for (int i = 2; i < 10; i++) len = (len << 8) | h[i];
            hl = 10;
        }
        if (c->in_len - p < hl + len) break;
        unsigned op = h[0] & 0x0f;
        if (op == 1) queue_ack(c, h + hl, len);
        else if (op == 8) c->closed = 1;
        else if (op == 9 && len < 126 && c->out_len + 6 + len <= OUT_CAP) {
            unsigned char *f = c->out + LWS_PRE + c->out_len;
            f[0] = 0x8a;
            f[1] = (unsigned char)(0x80 | len);
            memset(f + 2, 0, 4);
            memcpy(f + 6, h + hl, len);
            c->out_len += 6 + len;
        }
        p += hl + len;
    }
    memmove(c->in, c->in + p, c->in_len - p);
    c->in_len -= p;
}

/* One poll round over the taken-over sockets. */
static void raw_service(void) {
    struct pollfd pfd[MAX_CONNS];
    int map[MAX_CONNS], n = 0;
    for (int i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->closed || c->raw_fd < 0) continue;
        pfd[n].fd = c->raw_fd;
        pfd[n].events = (short)((c->out_len + ACK_FRAME * 1024 < OUT_CAP ? POLLIN : 0) | (c->out_len ? POLLOUT : 0));
        pfd[n].revents = 0;
        map[n++] = i;
    }
    if (!n || poll(pfd, (nfds_t)n, 100) <= 0) return;
    for (int k = 0; k < n; k++) {
        struct conn *c = &conns[map[k]];
        if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(c->raw_fd, c->in + c->in_len, IN_CAP - c->in_len);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { c->closed = 1; continue; }
            if (r > 0) { c->in_len += (size_t)r; raw_parse(c); }
        }
        if (c->out_len) {
            ssize_t w = write(c->raw_fd, c->out + LWS_PRE, c->out_len);
            if (w < 0 && errno != EAGAIN && errno != EINTR) { c->closed = 1; continue; }
            if (w > 0) {
                memmove(c->out + LWS_PRE, c->out + LWS_PRE + w, c->out_len - (size_t)w);
                c->out_len -= (size_t)w;
            }
        }
    }
}

static void on_sigint(int s) { (void)s; interrupted = 1; }

int main(int argc, char **argv) {
    double duration = 600;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--token") && i + 1 < argc) token = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc) n_conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--duration") && i + 1 < argc) duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "--lws-rx")) lws_rx = 1;
        else { fprintf(stderr, "usage: %s --port P [--token T] [--connections N] [--duration S]\n", argv[0]); return 2; }
    }
    if (port <= 0 || n_conns < 1 || n_conns > MAX_CONNS) { fprintf(stderr, "bad --port/--connections\n"); return 2; }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) return 1;
    static char paths[MAX_CONNS][512];
    for (int i = 0; i < n_conns; i++) {
        if (open_url(paths[i], sizeof paths[i]) != 0) { lws_context_destroy(ctx); return 1; }
        struct lws_client_connect_info ci;
        memset(&ci, 0, sizeof ci);
        ci.context = ctx;
        ci.address = "127.0.0.1";
        ci.port = port;
        ci.path = paths[i];
        ci.host = "127.0.0.1";
        ci.origin = "127.0.0.1";
        ci.protocol = NULL;
        ci.opaque_user_data = &conns[i];
        conns[i].raw_fd = -1;
        conns[i].in = malloc(IN_CAP);
        if (!conns[i].in) return 1;
        conns[i].wsi = lws_client_connect_via_info(&ci);
        if (!conns[i].wsi) { fprintf(stderr, "connect failed\n"); lws_context_destroy(ctx); return 1; }
    }
    double start = now_s();
    for (;;) {
        if (interrupted || now_s() - start > duration) break;
        int open = 0;
        for (int i = 0; i < n_conns; i++) open += !conns[i].closed;
        if (!open) break;
        int all_raw = !lws_rx;
        for (int i = 0; i < n_conns; i++) all_raw &= conns[i].closed || conns[i].raw_fd >= 0;
        if (all_raw) raw_service();
        else if (lws_service(ctx, 0) < 0) break;
    }
    unsigned long total = 0;
    for (int i = 0; i < n_conns; i++) {
        total += conns[i].acks;
        free(conns[i].rx);
        free(conns[i].in);
        if (conns[i].raw_fd >= 0) close(conns[i].raw_fd);
    }
    lws_context_destroy(ctx);
    fprintf(stderr, "ack-client: %lu acks sent in %.2f s\n", total, now_s() - start);
    return 0;
}
