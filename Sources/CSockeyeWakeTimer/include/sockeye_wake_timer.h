#ifndef SOCKEYE_WAKE_TIMER_H
#define SOCKEYE_WAKE_TIMER_H
/* A service thread's wake-up timer (the simulator's, and the transport's for coalesced
 * acks): a Linux timerfd on CLOCK_MONOTONIC that libwebsockets polls like any other
 * descriptor. lws 4.1's own timers (lws_sul) cut the
 * poll wait to whole milliseconds (rounding down), so a timer due in less than 1 ms makes
 * the loop poll with timeout 0 until it is due: a spin. A timerfd wakes poll at its
 * nanosecond expiry instead. <sys/timerfd.h> does not import into Swift, hence C.
 * Each function is a thin system call: thread-safe, nothing allocated; the caller owns
 * the descriptor and closes it. */

#ifdef __cplusplus
extern "C" {
#endif

/** A non-blocking, close-on-exec timerfd on CLOCK_MONOTONIC, disarmed.
 *  Returns the descriptor, or -1 (errno set). */
int sockeye_wake_timer_create(void);

/** Arms `fd` to expire once at `monotonic_seconds` (absolute CLOCK_MONOTONIC time; a
 *  time already past, or negative, expires at once). Returns 0, or -1 (errno set). */
int sockeye_wake_timer_arm(int fd, double monotonic_seconds);

/** Disarms `fd` (a pending expiration stays until drained). Returns 0, or -1 (errno set). */
int sockeye_wake_timer_disarm(int fd);

/** Consumes pending expirations so the descriptor stops polling readable.
 *  Returns how many expirations there were (0 when none, or on any read error). */
unsigned long long sockeye_wake_timer_drain(int fd);

#ifdef __cplusplus
}
#endif
#endif
