"""WebSocket conformance of SockeyeCore's client codec against servers written elsewhere.

The echo client (`sockeye-ws-echo`, SockeyeCore's handshake, frame decoder and frame writer
over a blocking socket) is run once per case against a `websockets` or aiohttp server that
sends the case's frames (ws_cases.py: Autobahn TestSuite sections 1-7 and 9, scaled to the
client's message limit). Each case checks what the client did: what the server got back
(echoes and pongs, in order) and how the client ended (the close code it answered or failed
the connection with), from both the client's own report and the server's side.

This file is not collected by a plain `pytest Tests/interop` (it needs the release echo
client); scripts/test runs it as its own step:

    swift build -c release --product sockeye-ws-echo
    SOCKEYE_WS_ECHO_BIN=.build/release/sockeye-ws-echo .venv/bin/python -m pytest -q Tests/interop/websocket_conformance.py

and the published table is written by the same runner:

    .venv/bin/python Tests/interop/websocket_conformance.py --markdown docs/websocket-conformance.md
"""
import argparse
import os
import subprocess
import sys
from collections import Counter

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_cases  # noqa: E402
from ws_servers import Servers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIENT_TIMEOUT = 10  # seconds the client waits for any read
CASE_TIMEOUT = 60  # seconds a client process may run


def client_binary():
    return os.environ.get("SOCKEYE_WS_ECHO_BIN", os.path.join(ROOT, ".build", "release", "sockeye-ws-echo"))


def run_case(servers, case):
    """Plays `case`; returns (passed, observed, problems)."""
    servers.records.pop(case.key, None)
    try:
        process = subprocess.run([client_binary(), servers.url(case), "--timeout", str(CLIENT_TIMEOUT)],
                                 capture_output=True, text=True, timeout=CASE_TIMEOUT)
        line = process.stdout.strip().splitlines()[-1] if process.stdout.strip() else ""
    except subprocess.TimeoutExpired:
        line = "end=killed"
    client = dict(field.split("=", 1) for field in line.split() if "=" in field)
    record = servers.record(case)
    problems = []
    if record is None:
        problems.append("the server never saw the case")
        replies, server_saw = [], "nothing"
    else:
        replies, server_saw = record.replies, record.client_close
    # websockets reports pongs apart from messages, so only its order within each kind counts.
    ordered = case.server != "websockets"
    got = replies if ordered else sorted(replies, key=lambda r: r[0])
    want = case.replies if ordered else sorted(case.replies, key=lambda r: r[0])
    if got != want:
        problems.append(f"replies: {summarize(replies)}, expected {summarize(case.replies)}")
    kind, code = case.end[0], case.end[1] if len(case.end) > 1 else 1000
    if kind in ("echo", "close"):
        code_text = "empty" if code is None else str(code)
        if (client.get("end"), client.get("received"), client.get("sent")) != ("close", code_text, code_text):
            problems.append(f"client: {line!r}")
    else:
        if (client.get("end"), client.get("sent")) != ("protocol_error", str(code)):
            problems.append(f"client: {line!r}")
        code_text = str(code)
    if str(server_saw) != code_text:
        problems.append(f"the server saw the client close with {server_saw}, expected {code_text}")
    return not problems, observe(client, replies, server_saw), problems


def summarize(replies):
    if not replies:
        return "none"
    counts = Counter(kind for kind, _ in replies)
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def observe(client, replies, server_saw):
    """The table's 'observed' cell."""
    parts = []
    if replies:
        parts.append(f"{summarize(replies)} back")
    end = client.get("end", "no report")
    if end == "close":
        parts.append(f"close {client.get('received')} answered with {client.get('sent')}")
    elif end == "protocol_error":
        parts.append(f"failed with {client.get('sent')} ({client.get('error')})")
    else:
        parts.append(f"{end} ({client.get('error', '-')})")
    parts.append(f"server got close {server_saw}")
    return "; ".join(parts)


@pytest.fixture(scope="module")
def servers():
    assert os.access(client_binary(), os.X_OK), f"build the echo client first: {client_binary()}"
    running = Servers(ws_cases.CASES)
    yield running
    running.stop()


@pytest.mark.parametrize("case", ws_cases.CASES, ids=[case.key for case in ws_cases.CASES])
def test_case(servers, case):
    passed, observed, problems = run_case(servers, case)
    assert passed, f"{case.id} ({case.server}): {case.sent}: {'; '.join(problems)}"


def markdown(results):
    total = len(results)
    passed = sum(1 for _, ok, _, _ in results if ok)
    sections = Counter(case.id.split(".")[0] for case, _, _, _ in results)
    passed_by = Counter(case.id.split(".")[0] for case, ok, _, _ in results if ok)
    servers = Counter(case.server for case, _, _, _ in results)
    lines = [
        "# WebSocket conformance of the client codec",
        "",
        "Generated by `Tests/interop/websocket_conformance.py --markdown` (do not edit by hand).",
        "",
        "SockeyeCore's WebSocket client codec (`WebSocketHandshake`, `WebSocketFrameDecoder`,",
        "`WebSocketFrameWriter`), driven by the echo client `sockeye-ws-echo`, against servers",
        "nobody here wrote: the Python libraries `websockets` and aiohttp. The cases are the",
        "Autobahn TestSuite's sections 1-7 and 9 (numbers and expectations from its case",
        "descriptions; its own runner needs Python 2), with section 9 scaled to the client's",
        f"message limit of {ws_cases.LIMIT} bytes (both sides of it), and a few rules Autobahn checks",
        "only on servers (X). Autobahn's pauses of a second are shortened to 0.1-0.3 s.",
        "",
        "Servers: `websockets` and `aiohttp` use the library's own API (send, fragmented send,",
        "ping, close). `aiohttp+raw`: aiohttp does the upgrade and reads the client's replies, and",
        "the case's frames are written as raw bytes on its transport (what no library sends:",
        "reserved bits and opcodes, masked or malformed frames, invalid UTF-8, bad close codes,",
        "writes chopped into pieces).",
        "",
        "Expected behaviour (RFC 6455): every message echoed as the same type, every ping answered",
        "with a pong carrying its payload, a close answered with the same code (an empty close",
        "with an empty one) and nothing read after it; a broken rule fails the connection with",
        "1002 (protocol error), 1007 (text or close reason not UTF-8) or 1009 (over the message",
        "limit). Each row is checked on both sides: the client's one-line report and what the",
        "server received (replies in order, and the client's close code). Where Autobahn also",
        "looks at timing (6.4: failing at the fragment that breaks UTF-8 rather than at the",
        "message's end; 7.1.6: whether the message before a close is processed), only the outcome",
        "is asserted here: the decoder checks UTF-8 fragment by fragment and reads in order.",
        "",
        f"**{passed} of {total} cases pass** "
        f"({', '.join(f'{name}: {count}' for name, count in sorted(servers.items()))}).",
        "",
        "| Section | Cases | Pass |",
        "| --- | --- | --- |",
    ]
    order = ["1", "2", "3", "4", "5", "6", "7", "9", "X"]
    for section in order:
        if sections[section]:
            lines.append(f"| {section} | {sections[section]} | {passed_by[section]} |")
    lines += ["", "| Case | Server | What the server sent | Expected | Observed | Pass |", "| --- | --- | --- | --- | --- | --- |"]
    for case, ok, observed, problems in results:
        cell = observed if ok else f"{observed} — {'; '.join(problems)}"
        lines.append(f"| {case.id} | {case.server} | {escape(case.sent)} | {escape(case.expected)} | {escape(cell)} | "
                     f"{'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def escape(text):
    return text.replace("|", "\\|")


def main():
    parser = argparse.ArgumentParser(description="Runs every conformance case and prints (or writes) the table.")
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args()
    if not os.access(client_binary(), os.X_OK):
        sys.exit(f"build the echo client first: {client_binary()}")
    servers = Servers(ws_cases.CASES)
    results = []
    try:
        for case in ws_cases.CASES:
            ok, observed, problems = run_case(servers, case)
            results.append((case, ok, observed, problems))
            if not ok:
                print(f"FAIL {case.id} ({case.server}): {'; '.join(problems)}", file=sys.stderr)
    finally:
        servers.stop()
    table = markdown(results)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(table)
    passed = sum(1 for _, ok, _, _ in results if ok)
    print(f"{passed} of {len(results)} cases pass")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
