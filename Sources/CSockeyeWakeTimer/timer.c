/* A service thread's wake-up timerfd; see include/sockeye_wake_timer.h. */
#define _POSIX_C_SOURCE 200809L
#include "sockeye_wake_timer.h"

#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int sockeye_wake_timer_create(void) {
    return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}

int sockeye_wake_timer_arm(int fd, double monotonic_seconds) {
    struct itimerspec spec = {0};
    if (monotonic_seconds < 0) monotonic_seconds = 0;
    time_t whole = (time_t)monotonic_seconds;
    long nanos = (long)((monotonic_seconds - (double)whole) * 1e9);
    if (nanos >= 1000000000L) { whole += 1; nanos -= 1000000000L; }
    /* An all-zero it_value disarms the timer: never ask for the epoch itself. */
    if (whole == 0 && nanos == 0) nanos = 1;
    spec.it_value.tv_sec = whole;
    spec.it_value.tv_nsec = nanos;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int sockeye_wake_timer_disarm(int fd) {
    struct itimerspec spec = {0};
    return timerfd_settime(fd, 0, &spec, NULL);
}

unsigned long long sockeye_wake_timer_drain(int fd) {
    uint64_t expirations = 0;
    return read(fd, &expirations, sizeof expirations) == (ssize_t)sizeof expirations ? expirations : 0;
}
