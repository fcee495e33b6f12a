/*
 * Test helper: runs sockeye-sim as a real process on 127.0.0.1 (a free port, `--port 0`)
 * and talks to its admin API over plain HTTP/1.1. Header-only so the ABI tests stay one
 * translation unit that builds as C99 and as C++. POSIX only; every wait is bounded.
 */
#ifndef SOCKEYE_TEST_SIM_PROCESS_H
#define SOCKEYE_TEST_SIM_PROCESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct sim_process {
    pid_t pid;
    int port;
    char api[128];
} sim_process;

static long long sim_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void sim_sleep_ms(int ms) {
    struct timespec wait;
    wait.tv_sec = ms / 1000;
    wait.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&wait, NULL);
}

/* Starts `binary --port 0 --report json <extra…>` with its stdout in a temporary file and
 * waits (≤ 20 s) for its LISTENING line. `extra` is NULL-terminated. Returns 0 on success. */
static int sim_start(sim_process *sim, const char *binary, const char *const *extra) {
    const char *argv[32];
    char path[] = "/tmp/sockeye-sim-out-XXXXXX";
    int out;
    int argc = 0;
    int i;
    posix_spawn_file_actions_t actions;
    long long deadline = sim_now_ms() + 20000;

    memset(sim, 0, sizeof *sim);
    argv[argc++] = binary;
    argv[argc++] = "--port";
    argv[argc++] = "0";
    argv[argc++] = "--report";
    argv[argc++] = "json";
    for (i = 0; extra != NULL && extra[i] != NULL && argc < 31; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;
    out = mkstemp(path);
    if (out < 0) return -1;
    unlink(path); /* the sim keeps writing to the open file; nothing is left behind */
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    if (posix_spawn(&sim->pid, binary, &actions, NULL, (char *const *)argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        close(out);
        return -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    while (sim_now_ms() < deadline) {
        char line[512];
        ssize_t n = pread(out, line, sizeof line - 1, 0);
        char *found;
        if (n > 0) {
            line[n] = 0;
            found = strstr(line, "LISTENING port=");
            if (found != NULL && strchr(found, '\n') != NULL) {
                char *api = strstr(found, "api=");
                sim->port = atoi(found + strlen("LISTENING port="));
                if (api != NULL) {
                    size_t len = strcspn(api + 4, " \n");
                    if (len >= sizeof sim->api) len = sizeof sim->api - 1;
                    memcpy(sim->api, api + 4, len);
                    sim->api[len] = 0;
                }
                close(out);
                return sim->port > 0 ? 0 : -1;
            }
        }
        if (waitpid(sim->pid, NULL, WNOHANG) == sim->pid) break;
        sim_sleep_ms(20);
    }
    close(out);
    kill(sim->pid, SIGKILL);
    waitpid(sim->pid, NULL, 0);
    sim->pid = 0;
    return -1;
}

/* Stops the sim (SIGTERM, then SIGKILL after 5 s). */
static void sim_stop(sim_process *sim) {
    long long deadline = sim_now_ms() + 5000;
    if (sim->pid <= 0) return;
    kill(sim->pid, SIGTERM);
    while (sim_now_ms() < deadline) {
        if (waitpid(sim->pid, NULL, WNOHANG) == sim->pid) {
            sim->pid = 0;
            return;
        }
        sim_sleep_ms(20);
    }
    kill(sim->pid, SIGKILL);
    waitpid(sim->pid, NULL, 0);
    sim->pid = 0;
}

/* One HTTP/1.1 request to the admin API; the body of the answer goes to `out` (NUL-
 * terminated, truncated to `out_size`). Returns the HTTP status, or -1. */
static int sim_http(const sim_process *sim, const char *method, const char *path, const char *body, char *out,
                    size_t out_size) {
    struct sockaddr_in address;
    char request[2048];
    char *reply;
    size_t reply_size = 1 << 20;
    size_t used = 0;
    int fd;
    int status = -1;
    int length;
    char *start;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)sim->port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    length = snprintf(request, sizeof request,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: %u\r\nConnection: close\r\n\r\n%s",
                      method, path, (unsigned)(body ? strlen(body) : 0), body ? body : "");
    if (write(fd, request, (size_t)length) != length) {
        close(fd);
        return -1;
    }
    reply = (char *)malloc(reply_size);
    if (reply == NULL) {
        close(fd);
        return -1;
    }
    for (;;) {
        struct pollfd p;
        ssize_t n;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 5000) <= 0) break;
        n = read(fd, reply + used, reply_size - 1 - used);
        if (n <= 0) break;
        used += (size_t)n;
        if (used >= reply_size - 1) break;
    }
    reply[used] = 0;
    close(fd);
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1) status = -1;
    start = strstr(reply, "\r\n\r\n");
    if (out != NULL && out_size > 0) {
        size_t len = start ? strlen(start + 4) : 0;
        if (len >= out_size) len = out_size - 1;
        if (start) memcpy(out, start + 4, len);
        out[len] = 0;
    }
    free(reply);
    return status;
}

/* POST /admin/inject {"kind":kind,"count":count}. Returns 0 on HTTP 200. */
static int sim_inject(const sim_process *sim, const char *kind, int count) {
    char body[256];
    snprintf(body, sizeof body, "{\"kind\":\"%s\",\"count\":%d}", kind, count);
    return sim_http(sim, "POST", "/admin/inject", body, NULL, 0) == 200 ? 0 : -1;
}

/* A number from the `total` object of /admin/stats (e.g. "acked"), or -1. */
static long long sim_total(const sim_process *sim, const char *key) {
    static char stats[1 << 18];
    char pattern[96];
    char *total;
    char *at;
    if (sim_http(sim, "GET", "/admin/stats", NULL, stats, sizeof stats) != 200) return -1;
    total = strstr(stats, "\"total\"");
    if (total == NULL) return -1;
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    at = strstr(total, pattern);
    if (at == NULL) return -1;
    at = strchr(at + strlen(pattern), ':');
    return at ? atoll(at + 1) : -1;
}

/* Waits (≤ timeout_ms) until total.<key> >= want. Returns the last value seen. */
static long long sim_wait_total(const sim_process *sim, const char *key, long long want, int timeout_ms) {
    long long deadline = sim_now_ms() + timeout_ms;
    long long value = -1;
    while (sim_now_ms() < deadline) {
        value = sim_total(sim, key);
        if (value >= want) return value;
        sim_sleep_ms(25);
    }
    return value;
}

#endif
