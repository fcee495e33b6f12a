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

#endif
