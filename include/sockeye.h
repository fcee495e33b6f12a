/*
 * sockeye.h — the C interface of libsockeye, a Slack Socket Mode delivery engine.
 *
 * This header is the whole public ABI of libsockeye.so; the library exports no symbol
 * that does not start with `sockeye_`. It compiles as C99 and as C++.
 *
 * Two parts: stateless helpers (frame scanning, ack encoding) and, since 0.2, the client:
 * a runtime (one service thread) hosting clients (one Slack app each) whose events reach
 * the host through a callback or a pull queue with a pollable eventfd. 0.3 appends the
 * Web API deadline and the pull queue's bound to the client options, and their counters
 * to the stats (a host built against 0.2 keeps working: see "Versioned structs").
 *
 * Conventions, for every function below unless its comment says otherwise:
 *  - Return value: a `sockeye_status`; SOCKEYE_OK (0) on success, a negative code on
 *    failure. `sockeye_strerror()` names every code. Output parameters are written only
 *    as each function documents.
 *  - Threads: the stateless helpers keep no global or hidden state; they may be called
 *    from any thread, concurrently, as long as concurrent calls do not share output
 *    buffers. Every client function states its threads itself.
 *  - Memory: for the stateless helpers the library never allocates and never keeps a
 *    pointer it was given after the call returns; their views (`sockeye_view`) point into
 *    the caller's buffer and are valid exactly as long as that buffer is. The client's
 *    objects are owned as each function documents; an event's views point into the event.
 *  - Versioned structs: a struct whose first field is `struct_size` must have it set by
 *    the caller to `sizeof` the struct it was compiled with; the library then reads or
 *    writes only that many bytes, so hosts built against an older header keep working.
 *  - Bad input never crashes the process: any byte sequence gives a status.
 */
#ifndef SOCKEYE_H
#define SOCKEYE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SOCKEYE_API __attribute__((visibility("default")))
#else
#define SOCKEYE_API
#endif

/* ---------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------- */

/**
 * The version this header describes. `sockeye_version_number()` gives the library's.
 * It is Sockeye's release number, the same for the library, this header, `sockeye.pc`, the
 * Swift packages, the Python package and `sockeyed` (decided in the repository's VERSION
 * file). MAJOR changes only with an incompatible change of this ABI; MINOR with compatible
 * additions (a release may raise it with no change here: 0.4 is ABI 0.3's functions and
 * structs unchanged); PATCH with fixes only.
 */
#define SOCKEYE_VERSION_MAJOR 0
#define SOCKEYE_VERSION_MINOR 4
#define SOCKEYE_VERSION_PATCH 0
/** (major << 16) | (minor << 8) | patch, comparable with `sockeye_version_number()`. */
#define SOCKEYE_VERSION_NUMBER \
    ((SOCKEYE_VERSION_MAJOR << 16) | (SOCKEYE_VERSION_MINOR << 8) | SOCKEYE_VERSION_PATCH)

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 * Returns a static, NUL-terminated string; never NULL; the caller must not free it.
 */
SOCKEYE_API const char *sockeye_version(void);

/**
 * The library's version as (major << 16) | (minor << 8) | patch. A host built against
 * this header can check at run time that the library is compatible: same major, and a
 * minor at least SOCKEYE_VERSION_MINOR.
 */
SOCKEYE_API uint32_t sockeye_version_number(void);

/* ---------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------- */

/** What a function returns. New codes may be added in minor versions (all negative). */
typedef enum sockeye_status {
    /** Success. */
    SOCKEYE_OK = 0,
    /** A required pointer was NULL, or a `struct_size` was too small. */
    SOCKEYE_E_INVALID_ARGUMENT = -1,
    /** The frame is not strict RFC 8259 JSON (details in the scan error kind). */
    SOCKEYE_E_MALFORMED = -2,
    /** The frame exceeds a limit: larger than the maximum frame size, or nested too deep. */
    SOCKEYE_E_LIMIT = -3,
    /** The frame is valid JSON but not a Socket Mode message (no `type`, not an object,
     *  or an envelope that has no string `envelope_id`). */
    SOCKEYE_E_NOT_ENVELOPE = -4,
    /** The acknowledgement would be SOCKEYE_ACK_MAX_FRAME bytes or more; Slack would close
     *  the connection. Send large responses through the Web API instead. */
    SOCKEYE_E_ACK_TOO_LARGE = -5,
    /** The output buffer is too small; the required size was written to the length
     *  output parameter. */
    SOCKEYE_E_BUFFER_TOO_SMALL = -6,
    /** The envelope id is empty or not valid UTF-8. */
    SOCKEYE_E_INVALID_ENVELOPE_ID = -7,
    /** The response payload is not exactly one valid JSON object. */
    SOCKEYE_E_INVALID_PAYLOAD = -8,
    /* Since 0.2 (the client) */
    /** The handle is not a live object of the expected kind: already freed or released,
     *  a handle of another kind, or a value that never came from the library. */
    SOCKEYE_E_INVALID_HANDLE = -9,
    /** The event was already acked or nacked (or acked on receipt, in that ack mode). */
    SOCKEYE_E_ALREADY_ANSWERED = -10,
    /** `sockeye_client_next_event` waited `timeout_ms` and no event came. */
    SOCKEYE_E_TIMEOUT = -11,
    /** The client is stopped (or freed) and has no queued event left; or it was stopped
     *  before this call and cannot be started again. */
    SOCKEYE_E_STOPPED = -12,
    /** The call does not fit how the client was made: the pull queue of a client that
     *  delivers through a callback. */
    SOCKEYE_E_WRONG_MODE = -13,
    /** The app token is missing, not valid UTF-8, or not an app-level (`xapp-`) token. */
    SOCKEYE_E_INVALID_TOKEN = -14,
    /** The API base URL or the proxy URL cannot be parsed or has an unsupported scheme. */
    SOCKEYE_E_INVALID_URL = -15,
    /** An option is out of range or unusable (unknown ack mode, unreadable CA file …). */
    SOCKEYE_E_INVALID_OPTION = -16,
    /** The operating system refused a resource (thread, eventfd) or the runtime's service
     *  thread could not start. */
    SOCKEYE_E_SYSTEM = -17,
    /** Called on the runtime's service thread (from a callback) where it would deadlock. */
    SOCKEYE_E_WRONG_THREAD = -18,
    /** The client gave up for good (a fatal `apps.connections.open` error such as
     *  `invalid_auth`, or `link_disabled`) and no event is queued. */
    SOCKEYE_E_FAILED = -19
} sockeye_status;

/**
 * A short English description of `status`, e.g. "frame is not valid JSON".
 * Returns a static, NUL-terminated string for every value, including unknown ones;
 * never NULL; the caller must not free it.
 */
SOCKEYE_API const char *sockeye_strerror(sockeye_status status);

/* ---------------------------------------------------------------------------------
 * Scanning frames
 * ------------------------------------------------------------------------------- */

/** Why a frame was refused: `sockeye_envelope.error_kind`. 0 when the scan succeeded. */
typedef enum sockeye_scan_error {
    SOCKEYE_SCAN_OK = 0,
    /* Syntax (status SOCKEYE_E_MALFORMED) */
    SOCKEYE_SCAN_UNEXPECTED_END = 1,     /**< the frame ended inside a value */
    SOCKEYE_SCAN_UNEXPECTED_BYTE = 2,    /**< a byte the grammar does not allow there */
    SOCKEYE_SCAN_INVALID_UTF8 = 3,       /**< bad, overlong, surrogate or > U+10FFFF UTF-8 */
    SOCKEYE_SCAN_CONTROL_CHARACTER = 4,  /**< raw U+0000..U+001F inside a string */
    SOCKEYE_SCAN_INVALID_ESCAPE = 5,     /**< unknown escape, or \u without 4 hex digits */
    SOCKEYE_SCAN_LONE_SURROGATE = 6,     /**< \u surrogate not in a high+low pair */
    SOCKEYE_SCAN_INVALID_NUMBER = 7,     /**< number breaks the JSON grammar */
    SOCKEYE_SCAN_TRAILING_DATA = 8,      /**< non-whitespace after the top-level value */
    /* Limits (status SOCKEYE_E_LIMIT) */
    SOCKEYE_SCAN_DEPTH_EXCEEDED = 9,     /**< nested deeper than the maximum depth */
    SOCKEYE_SCAN_FRAME_TOO_LARGE = 10,   /**< longer than the maximum frame size */
    /* Semantics (status SOCKEYE_E_NOT_ENVELOPE) */
    SOCKEYE_SCAN_NOT_AN_OBJECT = 11,     /**< the top-level value is not an object */
    SOCKEYE_SCAN_MISSING_TYPE = 12,      /**< no `type` member */
    SOCKEYE_SCAN_FIELD_TYPE = 13,        /**< `type` or `envelope_id` is not a string */
    SOCKEYE_SCAN_MISSING_ENVELOPE_ID = 14 /**< an envelope type without `envelope_id` */
} sockeye_scan_error;

/**
 * A stable snake_case name for a scan error kind, e.g. "invalid_utf8".
 * Returns a static string for every value ("unknown" for values not listed); never NULL.
 */
SOCKEYE_API const char *sockeye_scan_error_name(int32_t kind);

/** What a frame is: `sockeye_envelope.kind`. */
typedef enum sockeye_message_kind {
    SOCKEYE_MESSAGE_NONE = 0,            /**< only after a failed scan */
    SOCKEYE_MESSAGE_HELLO = 1,           /**< `hello`: never acknowledged */
    SOCKEYE_MESSAGE_DISCONNECT = 2,      /**< `disconnect`: see `disconnect_reason` */
    SOCKEYE_MESSAGE_EVENTS_API = 3,      /**< `events_api` envelope */
    SOCKEYE_MESSAGE_SLASH_COMMANDS = 4,  /**< `slash_commands` envelope */
    SOCKEYE_MESSAGE_INTERACTIVE = 5,     /**< `interactive` envelope */
    SOCKEYE_MESSAGE_UNKNOWN = 6          /**< any other `type`; surfaced, not dropped */
} sockeye_message_kind;

/** `disconnect.reason`: `sockeye_envelope.disconnect_reason`. */
typedef enum sockeye_disconnect_reason {
    SOCKEYE_DISCONNECT_NONE = 0,               /**< not a disconnect, or no reason */
    SOCKEYE_DISCONNECT_WARNING = 1,            /**< refresh in about 10 s: open a replacement */
    SOCKEYE_DISCONNECT_REFRESH_REQUESTED = 2,  /**< being recycled: replace, then close */
    SOCKEYE_DISCONNECT_LINK_DISABLED = 3,      /**< Socket Mode turned off: do not loop */
    SOCKEYE_DISCONNECT_TOO_MANY_WEBSOCKETS = 4,/**< the app has 10 connections: back off */
    SOCKEYE_DISCONNECT_UNKNOWN = 5             /**< other: reconnect with backoff */
} sockeye_disconnect_reason;

/** `sockeye_view.flags` bits. */
#define SOCKEYE_VIEW_PRESENT 0x1u  /**< the field was in the frame, with the expected type */
#define SOCKEYE_VIEW_ESCAPED 0x2u  /**< the string contains backslash escapes */

/**
 * A view of bytes inside the scanned frame: no copy. For a string, the characters between
 * the quotes, still escaped when SOCKEYE_VIEW_ESCAPED is set (decode them with
 * `sockeye_view_decode`); for `payload`, the whole raw JSON value. Absent fields have
 * `ptr == NULL`, `len == 0`, `flags == 0`. Not NUL-terminated.
 */
typedef struct sockeye_view {
    const char *ptr;
    size_t len;
    uint32_t flags;
} sockeye_view;

/** `sockeye_envelope.flags` bits. */
#define SOCKEYE_ENVELOPE_NEEDS_ACK 0x1u            /**< an envelope with an envelope_id */
#define SOCKEYE_ENVELOPE_ACCEPTS_RESPONSE 0x2u     /**< accepts_response_payload is true */
#define SOCKEYE_ENVELOPE_HAS_ACCEPTS_RESPONSE 0x4u /**< accepts_response_payload is a bool */
#define SOCKEYE_ENVELOPE_HAS_RETRY_ATTEMPT 0x8u    /**< retry_attempt is an integer */
#define SOCKEYE_ENVELOPE_HAS_NUM_CONNECTIONS 0x10u /**< num_connections is an integer */
#define SOCKEYE_ENVELOPE_HAS_BUILD_NUMBER 0x20u    /**< debug_info.build_number is an integer */
#define SOCKEYE_ENVELOPE_HAS_CONNECTION_TIME 0x40u /**< approximate_connection_time is an integer */
#define SOCKEYE_ENVELOPE_DUPLICATE_KEY 0x10000u    /**< a recognised key repeated; the last won */
#define SOCKEYE_ENVELOPE_FIELD_TYPE_MISMATCH 0x20000u /**< a recognised field had another JSON
                                                          type and is reported absent */

/**
 * One scanned Socket Mode frame. Set `struct_size = sizeof(sockeye_envelope)` before
 * calling `sockeye_envelope_parse`; every other field is output.
 *
 * Field rules: members may come in any order; unknown members are validated and ignored;
 * when a recognised key appears twice the last one wins (as in jansson, Python's json and
 * JavaScript's JSON.parse, so every reader acks the same id) and
 * SOCKEYE_ENVELOPE_DUPLICATE_KEY is set; a recognised field of an unexpected JSON type is
 * reported absent with SOCKEYE_ENVELOPE_FIELD_TYPE_MISMATCH (except `type` and
 * `envelope_id`, which make the frame SOCKEYE_E_NOT_ENVELOPE).
 */
typedef struct sockeye_envelope {
    size_t struct_size;        /**< in: sizeof(sockeye_envelope) */
    int32_t kind;              /**< sockeye_message_kind */
    int32_t disconnect_reason; /**< sockeye_disconnect_reason */
    uint32_t flags;            /**< SOCKEYE_ENVELOPE_* */
    int32_t error_kind;        /**< sockeye_scan_error; SOCKEYE_SCAN_OK on success */
    size_t error_offset;       /**< byte offset where the error was detected */
    int64_t retry_attempt;     /**< valid with SOCKEYE_ENVELOPE_HAS_RETRY_ATTEMPT */
    int64_t num_connections;   /**< hello; valid with SOCKEYE_ENVELOPE_HAS_NUM_CONNECTIONS */
    int64_t build_number;      /**< hello debug_info; with SOCKEYE_ENVELOPE_HAS_BUILD_NUMBER */
    int64_t approximate_connection_time; /**< hello debug_info, seconds;
                                              with SOCKEYE_ENVELOPE_HAS_CONNECTION_TIME */
    sockeye_view type;         /**< `type` */
    sockeye_view envelope_id;  /**< `envelope_id`: the ack key */
    sockeye_view payload;      /**< `payload`: raw JSON value */
    sockeye_view retry_reason; /**< `retry_reason` */
    sockeye_view event_id;     /**< `payload.event_id` (de-duplication key with team_id) */
    sockeye_view team_id;      /**< `payload.team_id`, else `payload.team.id` */
    sockeye_view payload_type; /**< `payload.type` */
    sockeye_view event_type;   /**< `payload.event.type` */
    sockeye_view reason;       /**< disconnect `reason` */
    sockeye_view app_id;       /**< hello `connection_info.app_id` */
    sockeye_view debug_host;   /**< `debug_info.host` */
} sockeye_envelope;

/** The smallest `struct_size` `sockeye_envelope_parse` accepts: up to `error_offset`. */
#define SOCKEYE_ENVELOPE_MIN_SIZE \
    (offsetof(sockeye_envelope, error_offset) + sizeof(size_t))

/** Frames longer than this (1 MiB) are refused with SOCKEYE_SCAN_FRAME_TOO_LARGE. */
#define SOCKEYE_MAX_FRAME_SIZE (1u << 20)
/** Objects and arrays may nest this deep (the envelope itself is depth 1). */
#define SOCKEYE_MAX_DEPTH 128

/**
 * Scans one Socket Mode frame (the text of one WebSocket message) in a single pass:
 * validates it as strict RFC 8259 JSON (UTF-8, escapes, numbers, depth, size) and fills
 * `out` with views into `buf` and the scalars it found. Allocates nothing.
 *
 * @param buf  the frame; may be NULL only when `len` is 0.
 * @param len  its length in bytes.
 * @param out  written on every return except SOCKEYE_E_INVALID_ARGUMENT; its
 *             `struct_size` must be set by the caller (at least SOCKEYE_ENVELOPE_MIN_SIZE).
 * @return SOCKEYE_OK; SOCKEYE_E_MALFORMED, SOCKEYE_E_LIMIT or SOCKEYE_E_NOT_ENVELOPE with
 *         `out->error_kind` and `out->error_offset` set and every view absent;
 *         SOCKEYE_E_INVALID_ARGUMENT when `out` is NULL, `struct_size` too small, or `buf`
 *         NULL with a non-zero `len`.
 * Threads: any; no shared state. The views in `out` borrow `buf`.
 */
SOCKEYE_API sockeye_status sockeye_envelope_parse(const void *buf, size_t len, sockeye_envelope *out);

/**
 * Decodes a string view (escapes resolved, UTF-8 out) into `dst`.
 *
 * @param view     a string view from `sockeye_envelope_parse` whose buffer is still alive.
 * @param dst      where to write; may be NULL when `dst_size` is 0 (to learn the size).
 * @param dst_size capacity of `dst`. No NUL terminator is written.
 * @param out_len  receives the decoded length (on SOCKEYE_E_BUFFER_TOO_SMALL: an upper
 *                 bound of the size needed, `view->len`).
 * @return SOCKEYE_OK, SOCKEYE_E_BUFFER_TOO_SMALL, or SOCKEYE_E_INVALID_ARGUMENT when
 *         `view`/`out_len` is NULL or the view is absent.
 * Threads: any. Decoding never produces more bytes than `view->len`.
 */
SOCKEYE_API sockeye_status sockeye_view_decode(const sockeye_view *view, char *dst, size_t dst_size,
                                               size_t *out_len);

/* ---------------------------------------------------------------------------------
 * Encoding acknowledgements
 * ------------------------------------------------------------------------------- */

/** Slack refuses client frames of this many bytes or more (it closes with 1009). */
#define SOCKEYE_ACK_MAX_FRAME 20480u
/** A buffer of this size always suffices for `sockeye_ack_encode` with `headroom`. */
#define SOCKEYE_ACK_BUFFER_SIZE(headroom) ((size_t)(headroom) + SOCKEYE_ACK_MAX_FRAME)

/**
 * Writes the acknowledgement of one envelope, `{"envelope_id":"…"}` or
 * `{"envelope_id":"…","payload":{…}}`, into `buf + headroom`. The headroom lets a
 * libwebsockets host pass `buf + LWS_PRE` straight to `lws_write` (use LWS_PRE as
 * `headroom`); other hosts pass 0.
 *
 * @param buf             output buffer of `buf_size` bytes.
 * @param headroom        bytes left untouched at the start of `buf`.
 * @param envelope_id     the decoded envelope id (UTF-8, not NUL-terminated); escaped
 *                        here as JSON requires.
 * @param payload         NULL (or `payload_len` 0) for a plain ack, else the raw JSON text
 *                        of one object (e.g. `{"response_action":"clear"}`), validated with
 *                        the same strict scanner as inbound frames and copied verbatim.
 * @param out_len         receives the frame length (excluding headroom) on SOCKEYE_OK; the
 *                        required buffer size (including headroom) on
 *                        SOCKEYE_E_BUFFER_TOO_SMALL; the frame length on
 *                        SOCKEYE_E_ACK_TOO_LARGE.
 * @return SOCKEYE_OK; SOCKEYE_E_ACK_TOO_LARGE (frame would be >= SOCKEYE_ACK_MAX_FRAME);
 *         SOCKEYE_E_BUFFER_TOO_SMALL; SOCKEYE_E_INVALID_ENVELOPE_ID (empty or not UTF-8);
 *         SOCKEYE_E_INVALID_PAYLOAD; SOCKEYE_E_INVALID_ARGUMENT (NULL `buf`, `envelope_id`
 *         or `out_len`). Nothing is written to `buf` unless SOCKEYE_OK is returned.
 * Threads: any; no shared state.
 */
SOCKEYE_API sockeye_status sockeye_ack_encode(void *buf, size_t buf_size, size_t headroom,
                                              const char *envelope_id, size_t envelope_id_len,
                                              const char *payload, size_t payload_len,
                                              size_t *out_len);

/* =================================================================================
 * The client (since 0.2)
 *
 * A `sockeye_runtime` owns one service thread that does all network and protocol work
 * for any number of `sockeye_client`s, one per Slack app. A client keeps a pool of
 * Socket Mode connections, acknowledges, de-duplicates, refreshes and reconnects on its
 * own. Its events reach the host in one of two ways, chosen at `sockeye_client_new`:
 *
 *  - callback mode (`on_event` set): the callback runs on the service thread, one event
 *    at a time; it must return quickly (it holds up every client of the runtime);
 *  - pull mode (`on_event` NULL): events wait in a queue; the host takes them with
 *    `sockeye_client_next_event` from any thread, and can put `sockeye_client_event_fd`
 *    (an eventfd, readable while events are queued) into its own poll/epoll/libuv loop.
 *
 * Handles. `sockeye_runtime *`, `sockeye_client *` and `sockeye_event *` are opaque
 * handles, never dereferenced by the host. The library checks every handle it is given:
 * a freed runtime or client, a released event, a handle of the wrong kind or a value
 * that never came from the library gives SOCKEYE_E_INVALID_HANDLE, not a crash. (A
 * handle of a freed object could only be confused with a live one after 2^32 reuses of
 * the same slot.)
 *
 * Events are reference-counted. The host receives each event with one reference, in
 * both modes, and gives it back with `sockeye_event_release`; `sockeye_event_retain`
 * takes another. The views an event hands out point into memory the event owns and stay
 * valid until its last reference is released, also after its client is stopped or freed.
 * `sockeye_ack`, `sockeye_nack`, `sockeye_event_release` and the accessors may be called
 * from any thread, concurrently.
 *
 * Misuse that is a status, never a crash: a second release, an ack or an accessor after the
 * last release (SOCKEYE_E_INVALID_HANDLE), a second ack or nack (SOCKEYE_E_ALREADY_ANSWERED),
 * an ack after the client was freed (SOCKEYE_E_STOPPED), any call after `sockeye_client_free`
 * or `sockeye_runtime_free`, a client handle where an event is expected and the like
 * (SOCKEYE_E_INVALID_HANDLE). An event cannot be acked through another client: `sockeye_ack`
 * takes no client, the event knows its own.
 *
 * Undefined (the library cannot check these): reading a view after the event's last
 * release; calling `sockeye_runtime_free` concurrently with `sockeye_client_new` on the
 * same runtime; a log, state or event callback that longjmps or throws a C++ exception
 * through the library; passing a `user` pointer the callbacks cannot use.
 * ================================================================================= */

/** A service thread hosting clients. */
typedef struct sockeye_runtime sockeye_runtime;
/** One Slack app's Socket Mode client. */
typedef struct sockeye_client sockeye_client;
/** One envelope (Events API event, slash command, interactive payload). */
typedef struct sockeye_event sockeye_event;

/**
 * Starts a runtime: one service thread.
 *
 * @param out receives the runtime handle on SOCKEYE_OK; untouched otherwise.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL); SOCKEYE_E_SYSTEM (the
 *         thread or the event loop could not be created).
 * Threads: any. Ownership: the caller owns the runtime and frees it with
 * `sockeye_runtime_free`, after (or instead of) freeing its clients.
 */
SOCKEYE_API sockeye_status sockeye_runtime_new(sockeye_runtime **out);

/**
 * Stops every client of the runtime at once (no drain: acks not yet written are lost and
 * Slack redelivers those envelopes), waits up to 3 s for their connections to close, ends
 * the service thread and waits for it.
 * Clients still allocated become stopped: their pull queues report SOCKEYE_E_STOPPED once
 * empty; they still need `sockeye_client_free`. Events stay valid until released.
 * After this call the handle is invalid: any further use gives SOCKEYE_E_INVALID_HANDLE.
 *
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_WRONG_THREAD (called from a
 *         callback, i.e. on the service thread itself: nothing was done).
 * Threads: any thread except the service thread. Blocks until the thread has exited.
 */
SOCKEYE_API sockeye_status sockeye_runtime_free(sockeye_runtime *runtime);

/** When envelopes are acknowledged: `sockeye_client_options.ack_mode`. */
typedef enum sockeye_ack_mode {
    /** The default (SOCKEYE_ACK_AFTER_HANDLER). */
    SOCKEYE_ACK_DEFAULT = 0,
    /** Acked as soon as scanned, before the host sees it: fastest; Slack never retries,
     *  so the host must not lose events. `sockeye_nack` and response payloads are refused
     *  (SOCKEYE_E_ALREADY_ANSWERED); a plain `sockeye_ack` is accepted and does nothing. */
    SOCKEYE_ACK_ON_RECEIPT = 1,
    /** Acked empty when the host is done with the event unless it acked or nacked it
     *  first: in callback mode when the callback returns, in pull mode when the last
     *  reference is released. */
    SOCKEYE_ACK_AFTER_HANDLER = 2,
    /** The host acks with `sockeye_ack` (optionally with a response payload) or declines
     *  with `sockeye_nack`; an event released unanswered is left to the ack guard. */
    SOCKEYE_ACK_MANUAL = 3
} sockeye_ack_mode;

/** Log levels: `sockeye_client_options.log_level` and the log callback's `level`. */
typedef enum sockeye_log_level {
    SOCKEYE_LOG_NONE = 0,  /**< as `log_level`: log nothing */
    SOCKEYE_LOG_ERROR = 1, /**< the client gave up, or cannot do what it was asked */
    SOCKEYE_LOG_WARN = 2,  /**< connections lost, failed opens, late acks, protocol errors */
    SOCKEYE_LOG_INFO = 3,  /**< state changes, hellos, refreshes, pool resizes */
    SOCKEYE_LOG_DEBUG = 4  /**< duplicates dropped, ack guard, coalesced redeliveries */
} sockeye_log_level;

/** The client's state: the state callback's `state` and `sockeye_stats.state`. */
typedef enum sockeye_state {
    SOCKEYE_STATE_IDLE = 0,       /**< created, not started */
    SOCKEYE_STATE_CONNECTING = 1, /**< no connection has reached `hello` yet (or all were lost) */
    SOCKEYE_STATE_RUNNING = 2,    /**< at least one connection is live */
    SOCKEYE_STATE_STOPPING = 3,   /**< `sockeye_client_stop` was called: draining */
    SOCKEYE_STATE_STOPPED = 4,    /**< every connection is closed; final */
    SOCKEYE_STATE_FAILED = 5      /**< gave up for good (fatal token error, link_disabled);
                                       the state callback's `detail` says why */
} sockeye_state;

/**
 * Receives log lines. Runs on the service thread (except the one error line of a failed
 * `sockeye_client_new`, which runs on its caller's thread, before it returns); must not
 * block and must not call `sockeye_runtime_free`. `message` is NUL-terminated and valid
 * only during the call.
 * Log lines never contain the app token (it is redacted should any layer quote it).
 */
typedef void (*sockeye_log_fn)(void *user, sockeye_log_level level, const char *message);

/**
 * Receives state changes. Runs on the service thread, same rules as `sockeye_log_fn`.
 * `detail` is NUL-terminated, valid during the call: the reason for
 * SOCKEYE_STATE_FAILED, "live/target" connection counts for SOCKEYE_STATE_RUNNING, else "".
 */
typedef void (*sockeye_state_fn)(void *user, sockeye_client *client, sockeye_state state, const char *detail);

/**
 * Receives an event (callback mode). Runs on the service thread, one event at a time.
 * The host owns one reference to `event` and must give it back with
 * `sockeye_event_release` (now, or later from any thread). It may call `sockeye_ack`,
 * `sockeye_nack`, `sockeye_client_stop`, `sockeye_client_stats` and even
 * `sockeye_client_free` from inside the callback; not `sockeye_runtime_free`.
 * With SOCKEYE_ACK_AFTER_HANDLER the event is acked when the callback returns unless the
 * callback acked or nacked it.
 */
typedef void (*sockeye_event_fn)(void *user, sockeye_client *client, sockeye_event *event);

/**
 * How a client connects and delivers. Size-first: set `struct_size = sizeof(
 * sockeye_client_options)` and zero everything else (`memset`), then set what you need;
 * zero means "the default" for every field. The library reads only `struct_size` bytes,
 * so a host built against an older (smaller) header keeps working; fields it does not
 * know take their defaults. Strings are NUL-terminated UTF-8, copied during
 * `sockeye_client_new` (the caller may free them afterwards).
 */
typedef struct sockeye_client_options {
    size_t struct_size;        /**< in: sizeof(sockeye_client_options) */
    const char *app_token;     /**< required: the app-level token, `xapp-…` */
    const char *api_base_url;  /**< NULL: "https://slack.com/api/" */
    int32_t pool_size;         /**< connections kept open, 1..10; 0: 2 */
    int32_t ack_mode;          /**< sockeye_ack_mode; 0: SOCKEYE_ACK_AFTER_HANDLER */
    int32_t ack_guard_ms;      /**< ack empty what the host has not acked this long after
                                    receipt; 0: 2500; negative: off */
    int32_t dedup_window_s;    /**< remember delivered event ids this long to drop Slack's
                                    redeliveries; 0: 900; negative: 1 s (effectively off) */
    const char *proxy_url;     /**< "http://[user:pass@]host:port"; NULL: HTTPS_PROXY,
                                    HTTP_PROXY and NO_PROXY from the environment */
    const char *ca_file;       /**< PEM CA file to trust instead of the system store;
                                    NULL: the system store, or SSL_CERT_FILE */
    /* --- end of the smallest accepted struct (SOCKEYE_CLIENT_OPTIONS_MIN_SIZE) --- */
    sockeye_event_fn on_event; /**< NULL: pull mode (queue + eventfd) */
    void *on_event_user;       /**< passed to `on_event` */
    sockeye_state_fn on_state; /**< NULL: none */
    void *on_state_user;       /**< passed to `on_state` */
    sockeye_log_fn log;        /**< NULL: no logging */
    void *log_user;            /**< passed to `log` */
    int32_t log_level;         /**< most verbose sockeye_log_level passed to `log`;
                                    0: SOCKEYE_LOG_INFO (no `log`: nothing is logged) */
    int32_t max_pool_size;     /**< grow the pool up to this under load; 0: fixed pool */
    int64_t max_message_size;  /**< largest message accepted (bigger ones close the
                                    connection with 1009); 0: 1 MiB */
    /* --- since 0.3 (a 0.2 host's struct ends here: these take their defaults) --- */
    int32_t web_api_timeout_ms; /**< deadline of each Web API call the client makes
                                     (`apps.connections.open`), in milliseconds, over the
                                     whole exchange: DNS, TCP, proxy CONNECT, TLS handshake
                                     and the answer. When it passes, the call fails (counted
                                     in `sockeye_stats.timeouts`, logged naming the step that
                                     stalled) and the client asks again after its backoff.
                                     The wait is the service thread's; no host thread
                                     blocks on it. 100..300000; 0: 10000 (10 s). */
    int32_t max_queued_events;  /**< pull mode: events handed to the pull queue and not
                                     taken yet at most. At this many the client stops
                                     reading its connections (TCP pushes back on Slack,
                                     which redelivers after its deadline) and reads again
                                     once half of them are taken; the messages of the read
                                     in progress are still queued, so `queued` can pass the
                                     bound by one read (256 KiB) per connection. An event
                                     counts as taken when `sockeye_client_next_event`
                                     returns it, on whichever thread. Nothing queued is
                                     acked by the ack guard until taken. 1..10000000;
                                     0: 10000. Callback mode must leave it 0 (anything else
                                     is SOCKEYE_E_INVALID_OPTION): the callback is the
                                     consumer and nothing is read while it runs; a host that
                                     queues events from its callback bounds its own queue. */
} sockeye_client_options;

/** The smallest `struct_size` `sockeye_client_new` accepts: up to `ca_file`. */
#define SOCKEYE_CLIENT_OPTIONS_MIN_SIZE \
    (offsetof(sockeye_client_options, ca_file) + sizeof(const char *))

/**
 * Makes a client for one app on `runtime`, checks everything that can be checked
 * without the network, and starts connecting. Events then arrive through
 * `options->on_event` or the pull queue.
 *
 * @param runtime a live runtime.
 * @param options see `sockeye_client_options`; read during the call only.
 * @param out     receives the client handle on SOCKEYE_OK; untouched otherwise.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_ARGUMENT (`options`/`out` NULL, `struct_size`
 *         below SOCKEYE_CLIENT_OPTIONS_MIN_SIZE); SOCKEYE_E_INVALID_HANDLE (`runtime` not
 *         live); SOCKEYE_E_INVALID_TOKEN (missing, not UTF-8, or not `xapp-`: the log
 *         callback, if any, gets an error line naming the kind of token given, never the
 *         token); SOCKEYE_E_INVALID_URL (API base URL or proxy URL unparseable, not UTF-8,
 *         or not http(s)); SOCKEYE_E_INVALID_OPTION (pool size, max pool size, ack mode,
 *         log level, max message size, Web API timeout or max queued events out of range,
 *         max queued events set in callback mode, CA file unreadable or not UTF-8);
 *         SOCKEYE_E_SYSTEM (no eventfd). The log callback gets the reason of every failure.
 * Threads: any, including a callback of another client. Ownership: the caller frees the
 * client with `sockeye_client_free`.
 */
SOCKEYE_API sockeye_status sockeye_client_new(sockeye_runtime *runtime, const sockeye_client_options *options,
                                              sockeye_client **out);

/**
 * Stops the client. With `drain` non-zero: envelopes arriving from now on are not taken
 * (Slack redelivers them elsewhere), events already delivered may still be acked for up
 * to 3 s, queued acks are written, then every connection closes with 1000. With `drain`
 * 0: connections close at once. Returns at once; the state callback reports
 * SOCKEYE_STATE_STOPPED at the end, and the pull queue then returns SOCKEYE_E_STOPPED
 * once empty. A stopped client cannot be started again. Calling it twice is harmless.
 *
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE.
 * Threads: any, including from inside a callback.
 */
SOCKEYE_API sockeye_status sockeye_client_stop(sockeye_client *client, int drain);

/**
 * Frees the client: stops it at once if it is still running (no drain), drops the
 * events still queued in its pull queue (nacked, so Slack redelivers them), closes its
 * eventfd (take it out of your poll set first) and invalidates the handle. Events the
 * host still holds stay readable until released; acking them now gives
 * SOCKEYE_E_STOPPED. When called from outside the service thread it returns after the
 * service thread has finished any callback of this client: no callback of it runs after
 * this returns. (From inside a callback, none runs after that callback returns.)
 *
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE (NULL, already freed).
 * Threads: any, including from inside a callback of this client.
 */
SOCKEYE_API sockeye_status sockeye_client_free(sockeye_client *client);

/**
 * Takes the next event from the pull queue, waiting up to `timeout_ms` for one.
 *
 * @param timeout_ms 0: do not wait; negative: wait without limit (until an event, the
 *                   stop, or the failure of the client).
 * @param out        receives an event handle (one reference: release it) on SOCKEYE_OK;
 *                   NULL otherwise.
 * @return SOCKEYE_OK; SOCKEYE_E_TIMEOUT; SOCKEYE_E_STOPPED (stopped or freed, queue
 *         empty); SOCKEYE_E_FAILED (gave up, queue empty; call `sockeye_client_stop`);
 *         SOCKEYE_E_WRONG_MODE (the client delivers through `on_event`);
 *         SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL).
 * Threads: any, several at once (each event goes to one caller).
 */
SOCKEYE_API sockeye_status sockeye_client_next_event(sockeye_client *client, int32_t timeout_ms,
                                                     sockeye_event **out);

/**
 * The pull queue's eventfd: readable (POLLIN) while at least one event is queued, and
 * also once the client has stopped or failed (so a poll loop wakes up to see
 * SOCKEYE_E_STOPPED / SOCKEYE_E_FAILED). Never read or write it yourself: call
 * `sockeye_client_next_event(client, 0, &ev)` until it returns SOCKEYE_E_TIMEOUT.
 * The library owns it and closes it in `sockeye_client_free`.
 *
 * @param out_fd receives the descriptor on SOCKEYE_OK.
 * @return SOCKEYE_OK; SOCKEYE_E_WRONG_MODE (callback mode has no queue);
 *         SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT (`out_fd` NULL).
 * Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_client_event_fd(sockeye_client *client, int *out_fd);

/* ---------------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------------- */

/**
 * Takes one more reference to `event` (give it back with `sockeye_event_release`).
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE. Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_event_retain(sockeye_event *event);

/**
 * Gives back one reference. When the last goes, the event and the memory its views
 * point into are freed, the handle becomes invalid, and with SOCKEYE_ACK_AFTER_HANDLER an
 * event never acked nor nacked is acked (pull mode). Releasing more often than retained
 * gives SOCKEYE_E_INVALID_HANDLE.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE. Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_event_release(sockeye_event *event);

/**
 * Acknowledges the event, optionally with a response payload: the JSON text of one object
 * (`{"text":"Done"}` for a slash command, `{"response_action":"clear"}` for a view
 * submission), allowed when the envelope accepts one (`sockeye_event_accepts_response_
 * payload`). The payload is validated and copied now; an invalid one leaves the event
 * unanswered, so it can be acked again. The ack is written by the service thread soon
 * after; an ack that comes after Slack's 3 s deadline is counted in `late_acks`.
 *
 * @param payload NULL (or `len` 0) for a plain ack.
 * @param len     bytes of `payload`; checked before any is read.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_ARGUMENT (`payload` NULL with `len` > 0, or `len`
 *         above PTRDIFF_MAX); SOCKEYE_E_INVALID_PAYLOAD; SOCKEYE_E_ACK_TOO_LARGE (the ack
 *         would be SOCKEYE_ACK_MAX_FRAME bytes or more; a `len` that large is refused
 *         without reading the payload); SOCKEYE_E_ALREADY_ANSWERED (acked or
 *         nacked before; in SOCKEYE_ACK_ON_RECEIPT mode, any payload); SOCKEYE_E_STOPPED
 *         (its client was freed or its runtime shut down: nothing is sent);
 *         SOCKEYE_E_INVALID_HANDLE (released, or not an event).
 * Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_ack(sockeye_event *event, const char *payload, size_t len);

/**
 * Declines the event: nothing is acked, the ack guard stands down for it, and Slack's
 * redelivery (with `retry_attempt` + 1) is delivered to the host again.
 * @return SOCKEYE_OK; SOCKEYE_E_ALREADY_ANSWERED (acked or nacked before, or the client
 *         acks on receipt); SOCKEYE_E_STOPPED; SOCKEYE_E_INVALID_HANDLE. Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_nack(sockeye_event *event);

/** The envelope's kind (`sockeye_message_kind`: events_api, slash_commands, interactive,
 *  or unknown). @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT
 *  (`out` NULL). Threads: any. */
SOCKEYE_API sockeye_status sockeye_event_kind(const sockeye_event *event, int32_t *out);

/**
 * The string and JSON fields of an event, as views (see `sockeye_view`) into memory the
 * event owns, valid until its last release. Strings are the raw characters between the
 * quotes (SOCKEYE_VIEW_ESCAPED when they hold escapes: decode with `sockeye_view_decode`);
 * `payload` is the raw JSON value. An absent field gives an absent view (ptr NULL, len 0,
 * flags 0) and SOCKEYE_OK.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL).
 * Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_event_type(const sockeye_event *event, sockeye_view *out);
/** `envelope_id`: what the ack names. See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_envelope_id(const sockeye_event *event, sockeye_view *out);
/** `payload`, the raw JSON value. See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_payload(const sockeye_event *event, sockeye_view *out);
/** `payload.team_id`, else `payload.team.id`. See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_team_id(const sockeye_event *event, sockeye_view *out);
/** `payload.event_id` (Events API). See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_event_id(const sockeye_event *event, sockeye_view *out);
/** `payload.event.type` (`message`, `app_mention` …). See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_event_type(const sockeye_event *event, sockeye_view *out);
/** `payload.type` (`event_callback`, `block_actions`, `view_submission` …). */
SOCKEYE_API sockeye_status sockeye_event_payload_type(const sockeye_event *event, sockeye_view *out);
/** `retry_reason` (`timeout` …) of a redelivery. See `sockeye_event_type`. */
SOCKEYE_API sockeye_status sockeye_event_retry_reason(const sockeye_event *event, sockeye_view *out);

/** `retry_attempt`: 0 for a first delivery. @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE;
 *  SOCKEYE_E_INVALID_ARGUMENT (`out` NULL). Threads: any. */
SOCKEYE_API sockeye_status sockeye_event_retry_attempt(const sockeye_event *event, int64_t *out);

/** 1 when the ack may carry a response payload (`accepts_response_payload`), else 0.
 *  @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT. Threads: any. */
SOCKEYE_API sockeye_status sockeye_event_accepts_response_payload(const sockeye_event *event, int *out);

/**
 * Every field of an event at once (since 0.5): what the accessors above give one call
 * each, for hosts where a call costs more than the work (a language's foreign-function
 * interface). Size-first, like the options: set `struct_size` (for an array, see
 * `sockeye_client_next_events`); the library writes exactly that many bytes, zeros where
 * a newer header's struct goes past the fields this library knows. The views are as the
 * accessors' and stay valid until the event's last release.
 */
typedef struct sockeye_event_info {
    size_t struct_size;           /**< in: sizeof(sockeye_event_info) */
    sockeye_event *event;         /**< the event (from `sockeye_client_next_events`: one
                                       reference the host owns and releases) */
    int32_t kind;                 /**< as `sockeye_event_kind` */
    int32_t accepts_response_payload; /**< as `sockeye_event_accepts_response_payload` */
    int64_t retry_attempt;        /**< as `sockeye_event_retry_attempt` */
    sockeye_view data;            /**< one block of memory that holds the bytes of every
                                       view below (each lies within it; absent ones are
                                       NULL): a binding that copies `data` once can slice
                                       every field from its copy at `view.ptr - data.ptr` */
    sockeye_view type;            /**< as `sockeye_event_type` */
    sockeye_view envelope_id;     /**< as `sockeye_event_envelope_id` */
    sockeye_view payload;         /**< as `sockeye_event_payload` */
    sockeye_view team_id;         /**< as `sockeye_event_team_id` */
    sockeye_view event_id;        /**< as `sockeye_event_event_id` */
    sockeye_view event_type;      /**< as `sockeye_event_event_type` */
    sockeye_view payload_type;    /**< as `sockeye_event_payload_type` */
    sockeye_view retry_reason;    /**< as `sockeye_event_retry_reason` */
} sockeye_event_info;

/** The smallest `struct_size` `sockeye_event_info_get` and `sockeye_client_next_events`
 *  accept: up to `retry_reason` (the whole 0.5 struct). */
#define SOCKEYE_EVENT_INFO_MIN_SIZE \
    (offsetof(sockeye_event_info, retry_reason) + sizeof(sockeye_view))

/**
 * Fills `out` (up to `out->struct_size` bytes) with every field of `event`; `out->event`
 * is `event` (no reference is taken).
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL or
 *         `struct_size` below SOCKEYE_EVENT_INFO_MIN_SIZE). Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_event_info_get(const sockeye_event *event, sockeye_event_info *out);

/**
 * Takes up to `capacity` events from the pull queue in one call (since 0.5): waits up to
 * `timeout_ms` for the first, as `sockeye_client_next_event` does, then takes what else is
 * queued, without waiting, and fills one `sockeye_event_info` for each. The host owns one
 * reference to each `out[i].event` and releases each on its own. Every event returned
 * counts as taken (the ack guard may answer it from now on), so take no more than the
 * host will handle well within Slack's 3 s.
 *
 * @param out       an array of `capacity` infos. Set `out[0].struct_size` to
 *                  `sizeof(sockeye_event_info)`: the library reads it as the size of each
 *                  element and writes it into every element it fills.
 * @param capacity  1 or more.
 * @param out_count receives how many were filled: at least 1 on SOCKEYE_OK, else 0.
 * @return SOCKEYE_OK; SOCKEYE_E_TIMEOUT; SOCKEYE_E_STOPPED; SOCKEYE_E_FAILED;
 *         SOCKEYE_E_WRONG_MODE; SOCKEYE_E_INVALID_HANDLE; SOCKEYE_E_INVALID_ARGUMENT
 *         (`out` or `out_count` NULL, `capacity` 0, `out[0].struct_size` below
 *         SOCKEYE_EVENT_INFO_MIN_SIZE or not a multiple of 8): as `sockeye_client_next_event`.
 * Threads: any, several at once (each event goes to one caller).
 */
SOCKEYE_API sockeye_status sockeye_client_next_events(sockeye_client *client, int32_t timeout_ms,
                                                      sockeye_event_info *out, size_t capacity,
                                                      size_t *out_count);

/* ---------------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------------- */

/**
 * A client's counters since it was made. Size-first: set `struct_size`; the library
 * writes only that many bytes. Counters only ever grow; new ones are added at the end.
 */
typedef struct sockeye_stats {
    size_t struct_size;           /**< in: sizeof(sockeye_stats) */
    int32_t state;                /**< sockeye_state */
    uint32_t connections_live;    /**< WebSocket connections open now */
    uint32_t connections_target;  /**< connections the pool wants now */
    uint32_t queued;              /**< events waiting in the pull queue now (bounded by
                                       `max_queued_events`, see there) */
    uint64_t received;            /**< text frames received */
    uint64_t delivered;           /**< envelopes handed to the host */
    uint64_t acked;               /**< acks sent (host, on receipt, guard, duplicates) */
    uint64_t host_acks;           /**< `sockeye_ack` calls that were accepted */
    uint64_t nacked;              /**< deliveries the host nacked */
    uint64_t deduplicated;        /**< redeliveries dropped or coalesced, never delivered twice */
    uint64_t redelivered;         /**< envelopes received with retry_attempt > 0 */
    uint64_t ack_guarded;         /**< envelopes the ack guard acked for the host */
    uint64_t late_acks;           /**< host acks after Slack's 3 s deadline */
    uint64_t outstanding;         /**< delivered and not yet acked */
    uint64_t reconnects_lost;     /**< connections lost (drops, timeouts, closes by Slack) */
    uint64_t reconnects_refresh;  /**< connections replaced (warning, refresh_requested, age) */
    uint64_t reconnects_too_many; /**< disconnect{too_many_websockets} received */
    uint64_t open_errors;         /**< apps.connections.open calls that failed */
    uint64_t transport_errors;    /**< DNS, TCP, proxy, TLS, HTTP, upgrade failures */
    uint64_t protocol_errors;     /**< WebSocket protocol violations by the server */
    uint64_t malformed_frames;    /**< frames that were not valid Socket Mode JSON */
    uint64_t ack_latency_p50_us;  /**< delivery to the host → `sockeye_ack`, µs, median; */
    uint64_t ack_latency_p90_us;  /**<   over every host ack so far (±12 %); 0 before */
    uint64_t ack_latency_p99_us;  /**<   the first */
    uint64_t ack_latency_max_us;
    /* --- since 0.3 (published with the others, read them from any thread) --- */
    uint64_t timeouts;            /**< waits that passed their deadline: a Web API call past
                                       `web_api_timeout_ms`, a WebSocket connection not up or
                                       without `hello` in time (also in `transport_errors`) */
    uint64_t peak_queued;         /**< the most events ever handed to the pull queue and not
                                       taken at once (`queued`'s high-water mark, compared
                                       with `max_queued_events`); 0 in callback mode */
    uint64_t intake_pauses;       /**< times the client stopped reading its connections
                                       because `max_queued_events` events were waiting */
} sockeye_stats;

/** The smallest `struct_size` `sockeye_client_stats` accepts: up to `delivered`. */
#define SOCKEYE_STATS_MIN_SIZE (offsetof(sockeye_stats, delivered) + sizeof(uint64_t))

/**
 * Copies the client's latest counters (published by the service thread after each batch
 * of work) into `out`, up to `out->struct_size` bytes.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL or `struct_size` below
 *         SOCKEYE_STATS_MIN_SIZE); SOCKEYE_E_INVALID_HANDLE.
 * Threads: any, including callbacks.
 */
SOCKEYE_API sockeye_status sockeye_client_stats(sockeye_client *client, sockeye_stats *out);

/**
 * A stable snake_case name for a state ("running"); "unknown" for other values.
 * Returns a static string; never NULL. Threads: any.
 */
SOCKEYE_API const char *sockeye_state_name(int32_t state);

/* ---------------------------------------------------------------------------------
 * Features
 * ------------------------------------------------------------------------------- */

/** `sockeye_version_info.features` bits. */
#define SOCKEYE_FEATURE_TLS 0x1u          /**< wss:// and https:// (see `tls_library`) */
#define SOCKEYE_FEATURE_PROXY 0x2u        /**< HTTP CONNECT proxies, NO_PROXY */
#define SOCKEYE_FEATURE_PROXY_AUTH 0x4u   /**< `user:pass@` Basic proxy authentication */
#define SOCKEYE_FEATURE_EVENTFD 0x8u      /**< `sockeye_client_event_fd` */
#define SOCKEYE_FEATURE_DYNAMIC_POOL 0x10u /**< `max_pool_size` */

/** What this build of the library can do. Size-first, like the options. */
typedef struct sockeye_version_info {
    size_t struct_size;         /**< in: sizeof(sockeye_version_info) */
    const char *version;        /**< "MAJOR.MINOR.PATCH" */
    uint32_t version_number;    /**< as `sockeye_version_number()` */
    uint32_t features;          /**< SOCKEYE_FEATURE_* */
    const char *tls_library;    /**< e.g. "OpenSSL 3.0.15 3 Sep 2024" */
    const char *event_loop;     /**< e.g. "libwebsockets 4.1.6-…" */
} sockeye_version_info;

/**
 * Fills `out` (up to `out->struct_size` bytes). The strings are static: never freed,
 * valid for the life of the process.
 * @return SOCKEYE_OK; SOCKEYE_E_INVALID_ARGUMENT (`out` NULL or `struct_size` below
 *         offsetof(version_number) + 4). Threads: any.
 */
SOCKEYE_API sockeye_status sockeye_version_info_get(sockeye_version_info *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOCKEYE_H */
