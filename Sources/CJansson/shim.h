#ifndef SOCKEYE_CJANSSON_SHIM_H
#define SOCKEYE_CJANSSON_SHIM_H
/* Imports jansson into Swift. jansson's type predicates and reference counting are
 * macros or inline functions that do not import, so they are re-exported here. */
#include <jansson.h>

static inline int sockeye_json_typeof(const json_t *v) { return v ? (int)json_typeof(v) : -1; }
static inline void sockeye_json_decref(json_t *v) { json_decref(v); }
static inline int sockeye_json_is_integer(const json_t *v) { return json_is_integer(v); }
static inline int sockeye_json_is_real(const json_t *v) { return json_is_real(v); }
static inline int sockeye_json_is_string(const json_t *v) { return json_is_string(v); }
static inline int sockeye_json_is_object(const json_t *v) { return json_is_object(v); }
static inline int sockeye_json_is_array(const json_t *v) { return json_is_array(v); }
static inline int sockeye_json_is_true(const json_t *v) { return json_is_true(v); }
static inline int sockeye_json_is_false(const json_t *v) { return json_is_false(v); }
static inline int sockeye_json_is_null(const json_t *v) { return json_is_null(v); }

/* Parses `length` bytes as any JSON value, NULs in strings allowed. */
static inline json_t *sockeye_json_load(const void *bytes, size_t length, json_error_t *error) {
    return json_loadb((const char *)bytes, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, error);
}
/* The machine-readable class of a load error (jansson keeps it in the text's last byte). */
static inline int sockeye_json_error_code(const json_error_t *e) { return (int)json_error_code(e); }
static inline int sockeye_json_error_null_byte_in_key(void) { return json_error_null_byte_in_key; }
static inline int sockeye_json_error_numeric_overflow(void) { return json_error_numeric_overflow; }
static inline int sockeye_json_error_stack_overflow(void) { return json_error_stack_overflow; }

#endif
