/*
 * Exercises libsockeye.so through include/sockeye.h only, as a host would.
 * Built twice by Tests/CABI/run.sh: as C99 (-std=c99 -pedantic -Wall -Wextra -Werror)
 * and as C++ (g++ -Wall -Werror), both linked against the shared library.
 * Prints one line per check and a closing "N passed, M failed" line; exits non-zero on
 * any failure.
 */
#include <sockeye.h>

#include <stdio.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s\n", what);
    }
}

static int view_is(const sockeye_view *view, const char *text) {
    size_t len = strlen(text);
    return (view->flags & SOCKEYE_VIEW_PRESENT) != 0 && view->len == len && memcmp(view->ptr, text, len) == 0;
}

static sockeye_status parse(const char *text, sockeye_envelope *env) {
    memset(env, 0xAB, sizeof *env); /* garbage in: the library must overwrite what it reports */
    env->struct_size = sizeof *env;
    return sockeye_envelope_parse(text, strlen(text), env);
}

static void test_version(void) {
    char expected[32];
    const char *version = sockeye_version();
    check(version != NULL, "sockeye_version is not NULL");
    snprintf(expected, sizeof expected, "%d.%d.%d", SOCKEYE_VERSION_MAJOR, SOCKEYE_VERSION_MINOR,
             SOCKEYE_VERSION_PATCH);
    check(version != NULL && strcmp(version, expected) == 0, "sockeye_version matches the header");
    check(sockeye_version_number() == (uint32_t)SOCKEYE_VERSION_NUMBER, "sockeye_version_number matches the header");
}

static void test_strerror(void) {
    const sockeye_status all[] = {SOCKEYE_OK, SOCKEYE_E_INVALID_ARGUMENT, SOCKEYE_E_MALFORMED, SOCKEYE_E_LIMIT,
                                  SOCKEYE_E_NOT_ENVELOPE, SOCKEYE_E_ACK_TOO_LARGE, SOCKEYE_E_BUFFER_TOO_SMALL,
                                  SOCKEYE_E_INVALID_ENVELOPE_ID, SOCKEYE_E_INVALID_PAYLOAD};
    size_t i;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *text = sockeye_strerror(all[i]);
        check(text != NULL && strlen(text) > 0 && strcmp(text, "unknown status") != 0, "every status has a message");
    }
    check(strcmp(sockeye_strerror((sockeye_status)-999), "unknown status") == 0, "unknown status has a message");
    check(strcmp(sockeye_scan_error_name(SOCKEYE_SCAN_INVALID_UTF8), "invalid_utf8") == 0, "scan error name");
    check(strcmp(sockeye_scan_error_name(12345), "unknown") == 0, "unknown scan error name");
}

static void test_events_api(void) {
    sockeye_envelope env;
    const char *frame =
        "{\"payload\":{\"team_id\":\"T111\",\"type\":\"event_callback\",\"event_id\":\"Ev111\","
        "\"event\":{\"type\":\"app_mention\",\"text\":\"caf\\u00e9 \xF0\x9F\x90\x9F\"}},"
        "\"envelope_id\":\"cda4159a-72a5-4744-aba3-4d66eb52682b\",\"type\":\"events_api\","
        "\"accepts_response_payload\":false,\"retry_attempt\":2,\"retry_reason\":\"timeout\"}";
    check(parse(frame, &env) == SOCKEYE_OK, "events_api parses");
    check(env.kind == SOCKEYE_MESSAGE_EVENTS_API, "kind is events_api");
    check(env.error_kind == SOCKEYE_SCAN_OK, "no error kind on success");
    check(view_is(&env.envelope_id, "cda4159a-72a5-4744-aba3-4d66eb52682b"), "envelope_id view");
    check(env.envelope_id.ptr >= frame && env.envelope_id.ptr < frame + strlen(frame), "views point into the frame");
    check(view_is(&env.event_id, "Ev111") && view_is(&env.team_id, "T111"), "event_id and team_id");
    check(view_is(&env.payload_type, "event_callback") && view_is(&env.event_type, "app_mention"), "payload types");
    check(env.payload.len > 0 && env.payload.ptr[0] == '{' && env.payload.ptr[env.payload.len - 1] == '}',
          "payload view is the whole object");
    check((env.flags & SOCKEYE_ENVELOPE_NEEDS_ACK) != 0, "needs ack");
    check((env.flags & SOCKEYE_ENVELOPE_HAS_ACCEPTS_RESPONSE) != 0 && (env.flags & SOCKEYE_ENVELOPE_ACCEPTS_RESPONSE) == 0,
          "accepts_response_payload false");
    check((env.flags & SOCKEYE_ENVELOPE_HAS_RETRY_ATTEMPT) != 0 && env.retry_attempt == 2, "retry_attempt 2");
    check(view_is(&env.retry_reason, "timeout"), "retry_reason");
    check((env.debug_host.flags & SOCKEYE_VIEW_PRESENT) == 0 && env.debug_host.ptr == NULL, "absent view is empty");
}

static void test_hello_and_disconnect(void) {
    sockeye_envelope env;
    check(parse("{\"type\":\"hello\",\"num_connections\":2,\"debug_info\":{\"host\":\"applink-d85c5c684-k8lpq\","
                "\"build_number\":18,\"approximate_connection_time\":18060},\"connection_info\":{\"app_id\":"
                "\"A028U9TTUG1\"}}",
                &env) == SOCKEYE_OK,
          "hello parses");
    check(env.kind == SOCKEYE_MESSAGE_HELLO && (env.flags & SOCKEYE_ENVELOPE_NEEDS_ACK) == 0, "hello needs no ack");
    check((env.flags & SOCKEYE_ENVELOPE_HAS_NUM_CONNECTIONS) && env.num_connections == 2, "num_connections");
    check((env.flags & SOCKEYE_ENVELOPE_HAS_CONNECTION_TIME) && env.approximate_connection_time == 18060,
          "approximate_connection_time");
    check((env.flags & SOCKEYE_ENVELOPE_HAS_BUILD_NUMBER) && env.build_number == 18, "build_number");
    check(view_is(&env.app_id, "A028U9TTUG1") && view_is(&env.debug_host, "applink-d85c5c684-k8lpq"), "hello views");

    check(parse("{\"type\":\"disconnect\",\"reason\":\"too_many_websockets\",\"num_connections\":10}", &env) ==
                  SOCKEYE_OK &&
              env.kind == SOCKEYE_MESSAGE_DISCONNECT && env.disconnect_reason == SOCKEYE_DISCONNECT_TOO_MANY_WEBSOCKETS,
          "too_many_websockets");
    check(parse("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\"}", &env) == SOCKEYE_OK &&
              env.disconnect_reason == SOCKEYE_DISCONNECT_REFRESH_REQUESTED,
          "refresh_requested");
    check(parse("{\"type\":\"disconnect\",\"reason\":\"brand_new\"}", &env) == SOCKEYE_OK &&
              env.disconnect_reason == SOCKEYE_DISCONNECT_UNKNOWN,
          "unknown disconnect reason");
    check(parse("{\"type\":\"new_kind\",\"envelope_id\":\"e1\"}", &env) == SOCKEYE_OK &&
              env.kind == SOCKEYE_MESSAGE_UNKNOWN && (env.flags & SOCKEYE_ENVELOPE_NEEDS_ACK),
          "unknown type is surfaced with its envelope id");
}

static void test_errors(void) {
    sockeye_envelope env;
    check(parse("{\"type\":\"hello\"", &env) == SOCKEYE_E_MALFORMED && env.error_kind == SOCKEYE_SCAN_UNEXPECTED_END &&
              env.error_offset == 15,
          "truncated frame: unexpected end at its length");
    check(parse("{\"type\":\"hel\xC0\xAFlo\"}", &env) == SOCKEYE_E_MALFORMED &&
              env.error_kind == SOCKEYE_SCAN_INVALID_UTF8 && env.error_offset == 12,
          "overlong UTF-8 reported at its offset");
    check(parse("{\"type\":\"\\ud800\"}", &env) == SOCKEYE_E_MALFORMED && env.error_kind == SOCKEYE_SCAN_LONE_SURROGATE,
          "lone surrogate");
    check(parse("{\"type\":\"events_api\"}", &env) == SOCKEYE_E_NOT_ENVELOPE &&
              env.error_kind == SOCKEYE_SCAN_MISSING_ENVELOPE_ID,
          "envelope without envelope_id");
    check(parse("[1,2]", &env) == SOCKEYE_E_NOT_ENVELOPE && env.error_kind == SOCKEYE_SCAN_NOT_AN_OBJECT, "array");
    check(env.envelope_id.ptr == NULL && env.kind == SOCKEYE_MESSAGE_NONE, "failed scan leaves no views");
    check(sockeye_envelope_parse("{}", 2, NULL) == SOCKEYE_E_INVALID_ARGUMENT, "NULL out");
    env.struct_size = 4;
    check(sockeye_envelope_parse("{}", 2, &env) == SOCKEYE_E_INVALID_ARGUMENT, "struct_size too small");
    env.struct_size = sizeof env;
    check(sockeye_envelope_parse(NULL, 5, &env) == SOCKEYE_E_INVALID_ARGUMENT, "NULL buffer with length");
    check(sockeye_envelope_parse(NULL, 0, &env) == SOCKEYE_E_MALFORMED, "empty frame");
}

static void test_old_struct_size(void) {
    /* A host compiled against a header whose struct ended at error_offset. */
    sockeye_envelope env;
    memset(&env, 0x5A, sizeof env);
    env.struct_size = SOCKEYE_ENVELOPE_MIN_SIZE;
    check(sockeye_envelope_parse("{\"type\":\"hello\"}", 16, &env) == SOCKEYE_OK && env.kind == SOCKEYE_MESSAGE_HELLO,
          "minimum struct size works");
    check(env.retry_attempt == (int64_t)0x5A5A5A5A5A5A5A5ALL, "bytes past struct_size are not written");
}

static void test_view_decode(void) {
    sockeye_envelope env;
    char out[64];
    size_t len = 0;
    check(parse("{\"type\":\"x\",\"envelope_id\":\"a\\\"b\\u00e9\\ud83d\\udc1f\\n\"}", &env) == SOCKEYE_OK,
          "escaped id parses");
    check((env.envelope_id.flags & SOCKEYE_VIEW_ESCAPED) != 0, "escaped flag set");
    check(sockeye_view_decode(&env.envelope_id, out, sizeof out, &len) == SOCKEYE_OK && len == 10 &&
              memcmp(out, "a\"b\xC3\xA9\xF0\x9F\x90\x9F\n", 10) == 0,
          "view decodes escapes and surrogate pairs");
    check(sockeye_view_decode(&env.envelope_id, out, 3, &len) == SOCKEYE_E_BUFFER_TOO_SMALL, "decode buffer too small");
    check(sockeye_view_decode(&env.event_id, out, sizeof out, &len) == SOCKEYE_E_INVALID_ARGUMENT, "decode absent view");
}

static void test_ack_encode(void) {
    unsigned char buf[SOCKEYE_ACK_BUFFER_SIZE(16)];
    static char big[SOCKEYE_ACK_MAX_FRAME + 16];
    size_t len = 0;
    const char *expected = "{\"envelope_id\":\"e-1\"}";
    memset(buf, 0xEE, sizeof buf);
    check(sockeye_ack_encode(buf, sizeof buf, 16, "e-1", 3, NULL, 0, &len) == SOCKEYE_OK &&
              len == strlen(expected) && memcmp(buf + 16, expected, len) == 0,
          "plain ack after headroom");
    check(buf[0] == 0xEE && buf[15] == 0xEE, "headroom untouched");
    expected = "{\"envelope_id\":\"q\\\"\\\\\\n\",\"payload\":{\"response_action\":\"clear\"}}";
    check(sockeye_ack_encode(buf, sizeof buf, 0, "q\"\\\n", 4, " {\"response_action\":\"clear\"} ", 29, &len) ==
                  SOCKEYE_OK &&
              len == strlen(expected) && memcmp(buf, expected, len) == 0,
          "id escaped, payload copied without surrounding whitespace");
    check(sockeye_ack_encode(buf, sizeof buf, 0, "e", 1, "[1]", 3, &len) == SOCKEYE_E_INVALID_PAYLOAD,
          "array payload refused");
    check(sockeye_ack_encode(buf, sizeof buf, 0, "e", 1, "{\"a\":}", 6, &len) == SOCKEYE_E_INVALID_PAYLOAD,
          "malformed payload refused");
    check(sockeye_ack_encode(buf, sizeof buf, 0, "e\xFF", 2, NULL, 0, &len) == SOCKEYE_E_INVALID_ENVELOPE_ID,
          "invalid UTF-8 id refused");
    check(sockeye_ack_encode(buf, sizeof buf, 0, "", 0, NULL, 0, &len) == SOCKEYE_E_INVALID_ENVELOPE_ID, "empty id");
    check(sockeye_ack_encode(buf, 10, 0, "e-1", 3, NULL, 0, &len) == SOCKEYE_E_BUFFER_TOO_SMALL && len == 21,
          "buffer too small reports the size needed");
    memset(big, 'x', sizeof big);
    big[0] = '{';
    big[1] = '"';
    big[2] = 'k';
    big[3] = '"';
    big[4] = ':';
    big[5] = '"';
    big[SOCKEYE_ACK_MAX_FRAME - 2] = '"';
    big[SOCKEYE_ACK_MAX_FRAME - 1] = '}';
    check(sockeye_ack_encode(buf, sizeof buf, 0, "e", 1, big, SOCKEYE_ACK_MAX_FRAME, &len) == SOCKEYE_E_ACK_TOO_LARGE &&
              len >= SOCKEYE_ACK_MAX_FRAME,
          "ack of 20480 bytes or more refused");
    check(sockeye_ack_encode(NULL, 0, 0, "e", 1, NULL, 0, &len) == SOCKEYE_E_INVALID_ARGUMENT, "NULL buffer");
}

int main(void) {
    test_version();
    test_strerror();
    test_events_api();
    test_hello_and_disconnect();
    test_errors();
    test_old_struct_size();
    test_view_decode();
    test_ack_encode();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
