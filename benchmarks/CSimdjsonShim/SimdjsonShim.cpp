// simdjson competitors for the envelope-scanner benchmark.
//
// On-demand: the fastest way we know to get the scanner's fields out of simdjson. Strings are
// taken as raw token views into the input (no unescaping, no copy), exactly like the scanner's
// views; the payload's bytes come from object::raw_json(), after which the object is reset and
// walked for the nested fields. On-demand validates only what it touches (plus UTF-8 for the
// whole input), so it is the speed reference, not a validation reference.
//
// DOM: parses and validates the whole document into simdjson's tape, then reads the fields.
// Strings are unescaped copies in the parser's string buffer; the payload's source bytes are
// not available, only the fact that it is an object.
//
// Both parsers are created once and reused, so after the first call they allocate nothing.
#include "CSimdjsonShim.h"

#include <simdjson.h>

#include <string_view>
#include <utility>

struct sockeye_bench_ondemand {
    simdjson::ondemand::parser parser;
};

struct sockeye_bench_dom {
    simdjson::dom::parser parser;
};

namespace {

using simdjson::error_code;

void set_string(sockeye_bench_string &target, std::string_view value) {
    target.data = value.data();
    target.length = value.size();
    target.present = 1;
}

bool is_json_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// raw_json_token() spans from the token's first byte to the next structural character, so it
// may carry trailing whitespace; a string token starts and ends with a quote.
error_code set_raw_string(sockeye_bench_string &target, simdjson::ondemand::value value) {
    std::string_view token = value.raw_json_token();
    while (!token.empty() && is_json_space(token.back())) {
        token.remove_suffix(1);
    }
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
        return simdjson::INCORRECT_TYPE;
    }
    set_string(target, token.substr(1, token.size() - 2));
    return simdjson::SUCCESS;
}

void reset_fields(sockeye_bench_fields *out) {
    *out = sockeye_bench_fields{};
    out->accepts_response_payload = -1;
}

error_code ondemand_payload(simdjson::ondemand::value value, sockeye_bench_fields *out) {
    simdjson::ondemand::object payload;
    SIMDJSON_TRY(value.get_object().get(payload));
    std::string_view raw;
    SIMDJSON_TRY(payload.raw_json().get(raw));
    while (!raw.empty() && is_json_space(raw.back())) {
        raw.remove_suffix(1);
    }
    set_string(out->payload, raw);
    bool ignored;
    SIMDJSON_TRY(payload.reset().get(ignored));
    sockeye_bench_string team_dot_id{};
    for (auto field_result : payload) {
        simdjson::ondemand::field field;
        SIMDJSON_TRY(std::move(field_result).get(field));
        simdjson::ondemand::raw_json_string key = field.key();
        if (key == "type") {
            SIMDJSON_TRY(set_raw_string(out->payload_type, field.value()));
        } else if (key == "event_id") {
            SIMDJSON_TRY(set_raw_string(out->event_id, field.value()));
        } else if (key == "team_id") {
            SIMDJSON_TRY(set_raw_string(out->team_id, field.value()));
        } else if (key == "event") {
            simdjson::ondemand::object event;
            SIMDJSON_TRY(field.value().get_object().get(event));
            simdjson::ondemand::value event_type;
            error_code error = event.find_field("type").get(event_type);
            if (error == simdjson::SUCCESS) {
                SIMDJSON_TRY(set_raw_string(out->event_type, event_type));
            } else if (error != simdjson::NO_SUCH_FIELD) {
                return error;
            }
        } else if (key == "team") {
            // Interactive payloads carry the team as {"id": …}; the scanner falls back to it.
            simdjson::ondemand::object team;
            if (field.value().get_object().get(team) == simdjson::SUCCESS) {
                simdjson::ondemand::value id;
                if (team.find_field("id").get(id) == simdjson::SUCCESS) {
                    SIMDJSON_TRY(set_raw_string(team_dot_id, id));
                }
            }
        }
    }
    if (!out->team_id.present) { out->team_id = team_dot_id; }
    return simdjson::SUCCESS;
}

// Optional members: a missing key is not an error.
template <typename Lookup>
error_code lookup_string(sockeye_bench_string &target, Lookup &&value) {
    std::string_view text;
    error_code error = std::forward<Lookup>(value).get_string().get(text);
    if (error == simdjson::NO_SUCH_FIELD) { return simdjson::SUCCESS; }
    if (error) { return error; }
    set_string(target, text);
    return simdjson::SUCCESS;
}

error_code dom_string(sockeye_bench_string &target, simdjson::dom::element value) {
    std::string_view text;
    SIMDJSON_TRY(value.get_string().get(text));
    set_string(target, text);
    return simdjson::SUCCESS;
}

error_code dom_payload(simdjson::dom::element value, sockeye_bench_fields *out) {
    simdjson::dom::object payload;
    SIMDJSON_TRY(value.get_object().get(payload));
    out->payload.present = 1;
    sockeye_bench_string team_dot_id{};
    for (simdjson::dom::key_value_pair field : payload) {
        if (field.key == "type") {
            SIMDJSON_TRY(dom_string(out->payload_type, field.value));
        } else if (field.key == "event_id") {
            SIMDJSON_TRY(dom_string(out->event_id, field.value));
        } else if (field.key == "team_id") {
            SIMDJSON_TRY(dom_string(out->team_id, field.value));
        } else if (field.key == "event") {
            simdjson::dom::object event;
            SIMDJSON_TRY(field.value.get_object().get(event));
            simdjson::dom::element event_type;
            error_code error = event.at_key("type").get(event_type);
            if (error == simdjson::SUCCESS) {
                SIMDJSON_TRY(dom_string(out->event_type, event_type));
            } else if (error != simdjson::NO_SUCH_FIELD) {
                return error;
            }
        } else if (field.key == "team") {
            simdjson::dom::object team;
            simdjson::dom::element id;
            if (field.value.get_object().get(team) == simdjson::SUCCESS
                && team.at_key("id").get(id) == simdjson::SUCCESS) {
                SIMDJSON_TRY(dom_string(team_dot_id, id));
            }
        }
    }
    if (!out->team_id.present) { out->team_id = team_dot_id; }
    return simdjson::SUCCESS;
}

}  // namespace

extern "C" {

size_t sockeye_bench_simdjson_padding(void) {
    return simdjson::SIMDJSON_PADDING;
}

const char *sockeye_bench_simdjson_implementation(void) {
    return simdjson::get_active_implementation()->name().c_str();
}

const char *sockeye_bench_simdjson_builtin_implementation(void) {
    return simdjson::builtin_implementation()->name().c_str();
}

const char *sockeye_bench_simdjson_error_message(int code) {
    return simdjson::error_message(static_cast<error_code>(code));
}

sockeye_bench_ondemand *sockeye_bench_ondemand_create(void) {
    return new sockeye_bench_ondemand();
}

void sockeye_bench_ondemand_destroy(sockeye_bench_ondemand *parser) {
    delete parser;
}

int sockeye_bench_ondemand_extract(sockeye_bench_ondemand *parser, const char *json, size_t length,
                                   size_t capacity, sockeye_bench_fields *out) {
    reset_fields(out);
    simdjson::ondemand::document document;
    error_code error = parser->parser.iterate(json, length, capacity).get(document);
    if (error) { return error; }
    simdjson::ondemand::object root;
    if ((error = document.get_object().get(root))) { return error; }
    for (auto field_result : root) {
        simdjson::ondemand::field field;
        if ((error = std::move(field_result).get(field))) { return error; }
        simdjson::ondemand::raw_json_string key = field.key();
        if (key == "type") {
            error = set_raw_string(out->type, field.value());
        } else if (key == "envelope_id") {
            error = set_raw_string(out->envelope_id, field.value());
        } else if (key == "payload") {
            error = ondemand_payload(field.value(), out);
        } else if (key == "accepts_response_payload") {
            bool accepts = false;
            error = field.value().get_bool().get(accepts);
            out->accepts_response_payload = accepts ? 1 : 0;
        } else if (key == "retry_attempt") {
            error = field.value().get_int64().get(out->retry_attempt);
            out->retry_attempt_present = 1;
        } else if (key == "retry_reason") {
            error = set_raw_string(out->retry_reason, field.value());
        }
        if (error) { return error; }
    }
    return simdjson::SUCCESS;
}

int sockeye_bench_ondemand_lookup_extract(sockeye_bench_ondemand *parser, const char *json,
                                          size_t length, size_t capacity, sockeye_bench_fields *out) {
    reset_fields(out);
    simdjson::ondemand::document document;
    SIMDJSON_TRY(parser->parser.iterate(json, length, capacity).get(document));
    SIMDJSON_TRY(lookup_string(out->type, document["type"]));
    SIMDJSON_TRY(lookup_string(out->envelope_id, document["envelope_id"]));
    simdjson::ondemand::object payload;
    error_code error = document["payload"].get_object().get(payload);
    if (error == simdjson::SUCCESS) {
        std::string_view raw;
        SIMDJSON_TRY(payload.raw_json().get(raw));
        while (!raw.empty() && is_json_space(raw.back())) { raw.remove_suffix(1); }
        set_string(out->payload, raw);
        bool ignored;
        SIMDJSON_TRY(payload.reset().get(ignored));
        SIMDJSON_TRY(lookup_string(out->event_id, payload["event_id"]));
        SIMDJSON_TRY(lookup_string(out->team_id, payload["team_id"]));
        if (!out->team_id.present) {
            SIMDJSON_TRY(lookup_string(out->team_id, payload["team"]["id"]));
        }
        SIMDJSON_TRY(lookup_string(out->payload_type, payload["type"]));
        SIMDJSON_TRY(lookup_string(out->event_type, payload["event"]["type"]));
    } else if (error != simdjson::NO_SUCH_FIELD) {
        return error;
    }
    bool accepts = false;
    error = document["accepts_response_payload"].get_bool().get(accepts);
    if (error == simdjson::SUCCESS) {
        out->accepts_response_payload = accepts ? 1 : 0;
    } else if (error != simdjson::NO_SUCH_FIELD) {
        return error;
    }
    error = document["retry_attempt"].get_int64().get(out->retry_attempt);
    if (error == simdjson::SUCCESS) {
        out->retry_attempt_present = 1;
    } else if (error != simdjson::NO_SUCH_FIELD) {
        return error;
    }
    SIMDJSON_TRY(lookup_string(out->retry_reason, document["retry_reason"]));
    return simdjson::SUCCESS;
}

sockeye_bench_dom *sockeye_bench_dom_create(void) {
    return new sockeye_bench_dom();
}

void sockeye_bench_dom_destroy(sockeye_bench_dom *parser) {
    delete parser;
}

int sockeye_bench_dom_extract(sockeye_bench_dom *parser, const char *json, size_t length,
                              size_t capacity, sockeye_bench_fields *out) {
    reset_fields(out);
    if (capacity < length + simdjson::SIMDJSON_PADDING) { return simdjson::INSUFFICIENT_PADDING; }
    simdjson::dom::element root;
    error_code error = parser->parser.parse(json, length, false).get(root);
    if (error) { return error; }
    simdjson::dom::object object;
    if ((error = root.get_object().get(object))) { return error; }
    for (simdjson::dom::key_value_pair field : object) {
        if (field.key == "type") {
            error = dom_string(out->type, field.value);
        } else if (field.key == "envelope_id") {
            error = dom_string(out->envelope_id, field.value);
        } else if (field.key == "payload") {
            error = dom_payload(field.value, out);
        } else if (field.key == "accepts_response_payload") {
            bool accepts = false;
            error = field.value.get_bool().get(accepts);
            out->accepts_response_payload = accepts ? 1 : 0;
        } else if (field.key == "retry_attempt") {
            error = field.value.get_int64().get(out->retry_attempt);
            out->retry_attempt_present = 1;
        } else if (field.key == "retry_reason") {
            error = dom_string(out->retry_reason, field.value);
        }
        if (error) { return error; }
    }
    return simdjson::SUCCESS;
}

}  // extern "C"
