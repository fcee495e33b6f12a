#ifndef SOCKEYE_BENCH_SIMDJSON_SHIM_H
#define SOCKEYE_BENCH_SIMDJSON_SHIM_H
/* A C face for simdjson so the Swift benchmark can call it without C++ interop.
 * Each function extracts the envelope fields the Sockeye scanner returns. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A string result: bytes owned by the input buffer (on-demand raw views) or by the parser
 *  (unescaped strings); valid until the next call on the same parser. */
typedef struct {
    const char *data;
    size_t length;
    int present;
} sockeye_bench_string;

/** The fields every competitor extracts. Absent fields have present == 0. `team_id` is
 *  `payload.team_id`, or else `payload.team.id` (interactive payloads), as in the scanner. */
typedef struct {
    sockeye_bench_string type;
    sockeye_bench_string envelope_id;
    /** On-demand: the payload's raw JSON bytes in the input. DOM: not available (present
     *  says only that payload is an object). */
    sockeye_bench_string payload;
    sockeye_bench_string retry_reason;
    sockeye_bench_string event_id;
    sockeye_bench_string team_id;
    sockeye_bench_string payload_type;
    sockeye_bench_string event_type;
    /** -1 absent, 0 false, 1 true. */
    int accepts_response_payload;
    int retry_attempt_present;
    int64_t retry_attempt;
} sockeye_bench_fields;

typedef struct sockeye_bench_ondemand sockeye_bench_ondemand;
typedef struct sockeye_bench_dom sockeye_bench_dom;

/** simdjson needs this many readable bytes after the end of the input (SIMDJSON_PADDING). */
size_t sockeye_bench_simdjson_padding(void);

/** The implementation simdjson chose at run time ("haswell", "westmere", …). */
const char *sockeye_bench_simdjson_implementation(void);

/** The implementation compiled into the on-demand code (chosen at compile time from the
 *  target flags; "fallback" unless built for a newer x86-64 level). Stage 1 (the SIMD index)
 *  always uses the run-time choice above. */
const char *sockeye_bench_simdjson_builtin_implementation(void);

/** Human-readable text for a simdjson error code. */
const char *sockeye_bench_simdjson_error_message(int code);

sockeye_bench_ondemand *sockeye_bench_ondemand_create(void);
void sockeye_bench_ondemand_destroy(sockeye_bench_ondemand *parser);

/** On-demand extraction. `capacity` >= length + padding bytes must be readable at `json`.
 *  Returns 0 on success or a simdjson error code. */
int sockeye_bench_ondemand_extract(sockeye_bench_ondemand *parser, const char *json, size_t length,
                                   size_t capacity, sockeye_bench_fields *out);

/** On-demand the way its documentation writes it: `doc["key"]` lookups (in any order, so
 *  each may rewind), `get_string()` (unescaped copies in the parser's buffer); the payload's
 *  bytes through `raw_json()`. Same padding rule and return value. */
int sockeye_bench_ondemand_lookup_extract(sockeye_bench_ondemand *parser, const char *json,
                                          size_t length, size_t capacity, sockeye_bench_fields *out);

sockeye_bench_dom *sockeye_bench_dom_create(void);
void sockeye_bench_dom_destroy(sockeye_bench_dom *parser);

/** DOM parse (validates the whole document) then extraction. Same padding rule.
 *  Returns 0 on success or a simdjson error code. */
int sockeye_bench_dom_extract(sockeye_bench_dom *parser, const char *json, size_t length,
                              size_t capacity, sockeye_bench_fields *out);

#ifdef __cplusplus
}
#endif
#endif
