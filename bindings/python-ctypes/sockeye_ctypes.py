#!/usr/bin/env python3
"""A tiny Python host of libsockeye through ctypes only (no compiled extension).

Receives Socket Mode envelopes from Slack (or sockeye-sim), prints one line per envelope
and acks it; slash commands are answered with a text in the ack. It proves the C ABI is
usable from another language: the size-first options struct, the pull queue, event views,
acks and the stats struct, all declared here from include/sockeye.h.

    SLACK_APP_TOKEN=xapp-… [SOCKEYE_API_URL=http://127.0.0.1:PORT/api/] \\
        python3 sockeye_ctypes.py [--count N] [--seconds S]

The library is found through SOCKEYE_LIBRARY (a path), else `pkg-config --variable=libdir
sockeye`, else the loader's default path. Stops after N envelopes, after S seconds, or on
Ctrl-C; drains, prints the stats, exits 0 (1 if the client failed).
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

# --- include/sockeye.h, as ctypes declarations ---------------------------------------

OK = 0
E_TIMEOUT = -11
E_STOPPED = -12
E_FAILED = -19
ACK_MANUAL = 3
LOG_INFO = 3
MESSAGE_SLASH_COMMANDS = 4
VIEW_PRESENT = 0x1

LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
STATE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
EVENT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class ClientOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("app_token", ctypes.c_char_p),
        ("api_base_url", ctypes.c_char_p),
        ("pool_size", ctypes.c_int32),
        ("ack_mode", ctypes.c_int32),
        ("ack_guard_ms", ctypes.c_int32),
        ("dedup_window_s", ctypes.c_int32),
        ("proxy_url", ctypes.c_char_p),
        ("ca_file", ctypes.c_char_p),
        ("on_event", EVENT_FN),
        ("on_event_user", ctypes.c_void_p),
        ("on_state", STATE_FN),
        ("on_state_user", ctypes.c_void_p),
        ("log", LOG_FN),
        ("log_user", ctypes.c_void_p),
        ("log_level", ctypes.c_int32),
        ("max_pool_size", ctypes.c_int32),
        ("max_message_size", ctypes.c_int64),
        # since 0.3
        ("web_api_timeout_ms", ctypes.c_int32),
        ("max_queued_events", ctypes.c_int32),
    ]


class View(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t), ("flags", ctypes.c_uint32)]

    def raw(self):
        """The bytes of the view (still JSON-escaped for strings), or None when absent."""
        if not self.flags & VIEW_PRESENT:
            return None
        return ctypes.string_at(self.ptr, self.len) if self.len else b""


class Stats(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("state", ctypes.c_int32),
        ("connections_live", ctypes.c_uint32),
        ("connections_target", ctypes.c_uint32),
        ("queued", ctypes.c_uint32),
    ] + [
        (name, ctypes.c_uint64)
        for name in (
            "received delivered acked host_acks nacked deduplicated redelivered ack_guarded late_acks "
            "outstanding reconnects_lost reconnects_refresh reconnects_too_many open_errors "
            "transport_errors protocol_errors malformed_frames ack_latency_p50_us ack_latency_p90_us "
            "ack_latency_p99_us ack_latency_max_us timeouts peak_queued intake_pauses"
        ).split()
    ]


def load_library():
    path = os.environ.get("SOCKEYE_LIBRARY")
    if not path:
        try:
            libdir = subprocess.run(
                ["pkg-config", "--variable=libdir", "sockeye"], capture_output=True, text=True, check=True
            ).stdout.strip()
            path = os.path.join(libdir, "libsockeye.so.0")
        except (OSError, subprocess.CalledProcessError):
            path = "libsockeye.so.0"
    lib = ctypes.CDLL(path)
    handle = ctypes.c_void_p
    status = ctypes.c_int
    signatures = {
        "sockeye_version": (ctypes.c_char_p, []),
        "sockeye_strerror": (ctypes.c_char_p, [status]),
        "sockeye_state_name": (ctypes.c_char_p, [ctypes.c_int32]),
        "sockeye_runtime_new": (status, [ctypes.POINTER(handle)]),
        "sockeye_runtime_free": (status, [handle]),
        "sockeye_client_new": (status, [handle, ctypes.POINTER(ClientOptions), ctypes.POINTER(handle)]),
        "sockeye_client_stop": (status, [handle, ctypes.c_int]),
        "sockeye_client_free": (status, [handle]),
        "sockeye_client_next_event": (status, [handle, ctypes.c_int32, ctypes.POINTER(handle)]),
        "sockeye_client_stats": (status, [handle, ctypes.POINTER(Stats)]),
        "sockeye_event_kind": (status, [handle, ctypes.POINTER(ctypes.c_int32)]),
        "sockeye_event_accepts_response_payload": (status, [handle, ctypes.POINTER(ctypes.c_int)]),
        "sockeye_event_retry_attempt": (status, [handle, ctypes.POINTER(ctypes.c_int64)]),
        "sockeye_ack": (status, [handle, ctypes.c_char_p, ctypes.c_size_t]),
        "sockeye_event_release": (status, [handle]),
    }
    for field in ("type", "envelope_id", "payload", "event_type", "team_id", "event_id"):
        signatures["sockeye_event_" + field] = (status, [handle, ctypes.POINTER(View)])
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


# --- the host ---------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=0, help="stop after this many envelopes (0: never)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()
    token = os.environ.get("SLACK_APP_TOKEN")
    if not token:
        print("set SLACK_APP_TOKEN to the app-level token (xapp-…)", file=sys.stderr)
        return 2

    lib = load_library()

    def error(status):
        return lib.sockeye_strerror(status).decode()

    @LOG_FN
    def log(_user, level, message):
        print(f"sockeye[{level}]: {message.decode()}", file=sys.stderr, flush=True)

    options = ClientOptions()
    options.struct_size = ctypes.sizeof(ClientOptions)
    options.app_token = token.encode()
    api = os.environ.get("SOCKEYE_API_URL")
    options.api_base_url = api.encode() if api else None
    options.ack_mode = ACK_MANUAL
    options.log = log
    options.log_level = LOG_INFO

    runtime = ctypes.c_void_p()
    client = ctypes.c_void_p()
    status = lib.sockeye_runtime_new(ctypes.byref(runtime))
    if status != OK:
        print(f"sockeye_runtime_new: {error(status)}", file=sys.stderr)
        return 1
    status = lib.sockeye_client_new(runtime, ctypes.byref(options), ctypes.byref(client))
    if status != OK:
        print(f"sockeye_client_new: {error(status)}", file=sys.stderr)
        lib.sockeye_runtime_free(runtime)
        return 1
    print(f"libsockeye {lib.sockeye_version().decode()} from Python {sys.version.split()[0]}", file=sys.stderr)

    stop = {"requested": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(requested=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))
    deadline = time.monotonic() + args.seconds if args.seconds else None
    received = 0
    stopping = False
    failed = False
    while True:
        if not stopping and (stop["requested"] or (args.count and received >= args.count)
                             or (deadline and time.monotonic() > deadline)):
            stopping = True
            lib.sockeye_client_stop(client, 1)
        event = ctypes.c_void_p()
        status = lib.sockeye_client_next_event(client, 100, ctypes.byref(event))
        if status == E_TIMEOUT:
            continue
        if status == E_STOPPED:
            break
        if status == E_FAILED:
            failed = True
            if not stopping:
                stopping = True
                lib.sockeye_client_stop(client, 0)
            continue
        if status != OK:
            print(f"sockeye_client_next_event: {error(status)}", file=sys.stderr)
            break
        received += 1
        handle(lib, event, error)

    stats = Stats()
    stats.struct_size = ctypes.sizeof(Stats)
    lib.sockeye_client_stats(client, ctypes.byref(stats))
    summary = {name: getattr(stats, name) for name, _ in Stats._fields_ if name != "struct_size"}
    summary["state"] = lib.sockeye_state_name(stats.state).decode()
    print("stats " + json.dumps(summary), file=sys.stderr, flush=True)
    lib.sockeye_client_free(client)
    lib.sockeye_runtime_free(runtime)
    return 1 if failed else 0


def handle(lib, event, error):
    views = {}
    for field in ("type", "envelope_id", "event_type", "team_id", "event_id", "payload"):
        view = View()
        getattr(lib, "sockeye_event_" + field)(event, ctypes.byref(view))
        views[field] = view.raw()
    kind = ctypes.c_int32()
    accepts = ctypes.c_int()
    lib.sockeye_event_kind(event, ctypes.byref(kind))
    lib.sockeye_event_accepts_response_payload(event, ctypes.byref(accepts))
    payload = json.loads(views["payload"]) if views["payload"] else {}
    line = {
        "type": (views["type"] or b"").decode(),
        "envelope_id": (views["envelope_id"] or b"").decode(),
        "event_type": views["event_type"].decode() if views["event_type"] is not None else None,
        "team_id": views["team_id"].decode() if views["team_id"] is not None else None,
    }
    print(json.dumps(line), flush=True)
    answer = None
    if kind.value == MESSAGE_SLASH_COMMANDS and accepts.value:
        answer = json.dumps({"text": f"python got {payload.get('command', '?')} {payload.get('text', '')}"}).encode()
    status = lib.sockeye_ack(event, answer, len(answer) if answer else 0)
    if status != OK:
        print(f"sockeye_ack: {error(status)}", file=sys.stderr)
    lib.sockeye_event_release(event)


if __name__ == "__main__":
    sys.exit(main())
