/*
 * sockeye.h — the C interface of libsockeye, a Slack Socket Mode delivery engine.
 *
 * This header is the whole public ABI of libsockeye.so; the library exports no symbol
 * that does not start with `sockeye_`. It compiles as C99 and as C++.
 *
 * Conventions, for every function below unless its comment says otherwise:
 *  - Return value: a `sockeye_status`; SOCKEYE_OK (0) on success, a negative code on
 *    failure. `sockeye_strerror()` names every code. Output parameters are written only
 *    as each function documents.
 *  - Threads: the functions in this part of the ABI keep no global or hidden state; they
 *    may be called from any thread, concurrently, as long as concurrent calls do not share
 *    output buffers.
 *  - Memory: the library never allocates on behalf of these functions and never keeps a
 *    pointer it was given after the call returns. Views (`sockeye_view`) point into the
 *    caller's buffer and are valid exactly as long as that buffer is.
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

/** The version this header describes. `sockeye_version_number()` gives the library's. */
#define SOCKEYE_VERSION_MAJOR 0
#define SOCKEYE_VERSION_MINOR 1
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
    SOCKEYE_E_INVALID_PAYLOAD = -8
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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOCKEYE_H */
