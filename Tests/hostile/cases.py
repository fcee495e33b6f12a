"""The malformed requests: a few hundred heads and bodies a stranger (or a broken proxy) could
send to the ingress, each meant for its own connection. Every case is refused by a daemon
that is right (a 4xx, or the connection closed), except the few marked `may_accept`: those
are correctly signed and well-formed enough that taking them is also right, and each carries
its own event id so the harness can check that a taken one reached the sink exactly once.

The list is generated from a fixed seed: the same cases in the same order on every run."""
import random
from dataclasses import dataclass

from wire import event_body, request, sign

INT64_MIN = "-9223372036854775808"


@dataclass
class Case:
    """One malformed request: `data` is every byte sent on the connection."""
    category: str
    name: str
    data: bytes
    may_accept: bool = False
    # The id a taken case is found by in the sink (its event_id, or a marker in its text).
    event_id: str = ""


class Builder:
    """Collects cases against one app (its signing secret and paths)."""

    def __init__(self, secret, host, events_path, commands_path, actions_path, now):
        self.secret, self.host, self.now = secret, host, now
        self.events, self.commands, self.actions = events_path, commands_path, actions_path
        self.cases = []
        self.serial = 0

    def add(self, category, name, data, may_accept=False, event_id=""):
        self.cases.append(Case(category, name, data, may_accept, event_id))

    def event_id(self):
        self.serial += 1
        return f"EvHOSTILE{self.serial:06d}"

    def signed(self, body, timestamp=None, path=None, content_type="application/json", extra=(), signature=None):
        stamp = str(self.now) if timestamp is None else timestamp
        headers = [("Content-Type", content_type), ("X-Slack-Request-Timestamp", stamp),
                   ("X-Slack-Signature", signature if signature is not None else sign(self.secret, stamp, body)), *extra]
        return request(path or self.events, body, headers, host=self.host)

    def unsigned(self, body, path=None, headers=()):
        return request(path or self.events, body, [("Content-Type", "application/json"), *headers], host=self.host)


def malformed_cases(secret, host, events_path="/slack/events", commands_path="/slack/commands",
                    actions_path="/slack/actions", now=0, small_limit_path="/slack/small/events", seed=25):
    """Every case, in a fixed order: the numeric timestamps (the known crash among them) first."""
    b = Builder(secret, host, events_path, commands_path, actions_path, now)
    rng = random.Random(seed)
    _timestamps(b)
    _signatures(b)
    _request_lines(b, rng)
    _uris(b)
    _headers(b)
    _content_lengths(b, small_limit_path)
    _chunked(b)
    _content_types(b)
    _bodies(b)
    _forms(b)
    _random_bytes(b, rng)
    _mutations(b, rng)
    return b.cases


def _timestamps(b):
    # Each timestamp is signed correctly for itself, so only its value can refuse it; then
    # the same with a wrong signature (a stranger does not know the secret). Stale and future
    # ones are 15 minutes off, well outside Slack's 5, whenever the case is sent.
    stamps = [INT64_MIN, "9223372036854775807", "-9223372036854775807", "9223372036854775808", "-9223372036854775809",
              "18446744073709551615", "18446744073709551616", "99999999999999999999999999999999", "1e9999", "-1e9999",
              "1e10", "1.5", str(b.now) + ".0", "", " ", "now", "NaN", "inf", "-0", "0", "1", "-1", "--1", "+-1",
              "0x6553f100", str(b.now - 900), str(b.now + 900), str(b.now - 86400 * 365 * 30), str(b.now) + "\x00",
              "\u0661\u0667\u0660\u0660", "9" * 4096, str(-(2 ** 62)), str(2 ** 62), str(b.now - 2 ** 31), "\t" + str(b.now - 900)]
    for stamp in stamps:
        body = event_body("EvNEVERTAKEN")
        b.add("timestamp", f"signed, timestamp {stamp[:24]!r}", b.signed(body, timestamp=stamp))
        b.add("timestamp", f"bad signature, timestamp {stamp[:24]!r}",
              b.signed(body, timestamp=stamp, signature="v0=" + "0" * 64))
    # The timestamp header twice: the first one stale, the second one now.
    body = event_body("EvNEVERTAKEN")
    b.add("timestamp", "two timestamps, the first stale",
          request(b.events, body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", str(b.now - 3600)),
                                   ("X-Slack-Request-Timestamp", str(b.now)),
                                   ("X-Slack-Signature", sign(b.secret, str(b.now), body))], host=b.host))


def _signatures(b):
    body = event_body("EvNEVERTAKEN")
    good = sign(b.secret, str(b.now), body)
    for name, signature in [("empty", ""), ("v0= alone", "v0="), ("63 hex digits", good[:-1]), ("65 hex digits", good + "0"),
                            ("uppercase hex", "v0=" + good[3:].upper()), ("v1 scheme", "v1=" + good[3:]),
                            ("not hex", "v0=" + "zz" * 32), ("another secret", sign("not-the-secret", str(b.now), body)),
                            ("64 KiB", "v0=" + "a" * 65536), ("NUL inside", good[:10] + "\x00" + good[11:]),
                            ("spaces around", "  " + good + "  "), ("no v0= prefix", good[3:] + "000")]:
        b.add("signature", name, b.signed(body, signature=signature))
    b.add("signature", "absent", request(b.events, body, [("Content-Type", "application/json"),
                                                          ("X-Slack-Request-Timestamp", str(b.now))], host=b.host))
    b.add("signature", "absent, and no timestamp", b.unsigned(body))
    b.add("signature", "signed for another body", b.signed(event_body("EvNEVERTAKEN", text="changed"), signature=good))
    b.add("signature", "signed for another path's app", b.signed(body, path="/slack/small/events"))
    # Two signature headers: whichever the daemon reads, one of them is wrong. Refusing is
    # right; taking it is also right when the one it read was the good one.
    for order in ("good first", "good second"):
        event_id = b.event_id()
        body = event_body(event_id)
        good = sign(b.secret, str(b.now), body)
        pair = [good, "v0=" + "0" * 64] if order == "good first" else ["v0=" + "0" * 64, good]
        b.add("signature", f"two signatures, {order}",
              request(b.events, body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", str(b.now)),
                                       ("X-Slack-Signature", pair[0]), ("X-Slack-Signature", pair[1])], host=b.host),
              may_accept=True, event_id=event_id)


def _request_lines(b, rng):
    body = event_body("EvNEVERTAKEN")
    length = str(len(body)).encode()
    rest = b"\r\nHost: " + b.host.encode() + b"\r\nContent-Length: " + length + b"\r\n\r\n" + body
    for name, line in [("garbage", b"GARBAGE"), ("method only", b"POST"), ("no version", b"POST " + b.events.encode()),
                       ("HTTP/0.9", b"POST " + b.events.encode() + b" HTTP/0.9"),
                       ("HTTP/9.9", b"POST " + b.events.encode() + b" HTTP/9.9"),
                       ("HTTP/1.1 twice", b"POST " + b.events.encode() + b" HTTP/1.1 HTTP/1.1"),
                       ("lowercase method", b"post " + b.events.encode() + b" HTTP/1.1"),
                       ("unknown method", b"FROB " + b.events.encode() + b" HTTP/1.1"),
                       ("64 KiB method", b"P" * 65536 + b" " + b.events.encode() + b" HTTP/1.1"),
                       ("NUL in method", b"PO\x00ST " + b.events.encode() + b" HTTP/1.1"),
                       ("tab separators", b"POST\t" + b.events.encode() + b"\tHTTP/1.1"),
                       ("leading spaces", b"   POST " + b.events.encode() + b" HTTP/1.1"),
                       ("CONNECT", b"CONNECT 127.0.0.1:22 HTTP/1.1"), ("OPTIONS *", b"OPTIONS * HTTP/1.1"),
                       ("TRACE", b"TRACE " + b.events.encode() + b" HTTP/1.1"),
                       ("DELETE", b"DELETE " + b.events.encode() + b" HTTP/1.1"),
                       ("PUT", b"PUT " + b.events.encode() + b" HTTP/1.1"),
                       ("empty line", b""), ("only spaces", b"      ")]:
        b.add("request line", name, line + rest)
    b.add("request line", "HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 64)
    b.add("request line", "TLS ClientHello", bytes.fromhex("16030100f4010000f00303") + bytes(rng.getrandbits(8) for _ in range(240)))
    b.add("request line", "bare LF line ends", b"POST " + b.events.encode() + b" HTTP/1.1\nHost: x\nContent-Length: "
          + length + b"\n\n" + body)
    b.add("request line", "CR without LF", b"POST " + b.events.encode() + b" HTTP/1.1\rHost: x\r\r" + body)
    b.add("request line", "1 000 empty lines first", b"\r\n" * 1000 + b"POST " + b.events.encode() + b" HTTP/1.1" + rest)


def _uris(b):
    body = event_body("EvNEVERTAKEN")
    for name, uri in [("8 KiB path", "/" + "a" * 8192), ("64 KiB path", "/" + "a" * 65536), ("1 MiB path", "/" + "a" * (1 << 20)),
                      ("64 KiB query", b.events + "?" + "q=1&" * 16384), ("NUL in path", b.events + "\x00"),
                      ("non-ASCII path", "/slack/évènements"), ("raw bytes in path", "/slack/\udcff\udcfe"),
                      ("percent-encoded path", "/slack/%65vents"), ("bad percent escape", "/slack/events%zz"),
                      ("dot segments", "/x/../slack/events"), ("absolute URI", "http://evil.example" + b.events),
                      ("asterisk", "*"), ("empty", ""), ("fragment", b.events + "#frag"), ("backslashes", "\\slack\\events"),
                      ("double slash", "//slack//events"), ("spaces", "/slack/ev ents")]:
        data = request(uri.encode("utf-8", "surrogateescape").decode("latin-1"), body,
                       [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", str(b.now)),
                        ("X-Slack-Signature", "v0=" + "0" * 64)], host=b.host) if uri else None
        if data is None:
            data = b"POST  HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        b.add("URI", name, data)


def _headers(b):
    body = event_body("EvNEVERTAKEN")
    for count in (100, 1000, 10000, 50000):
        b.add("headers", f"{count} headers", b.unsigned(body, headers=[(f"X-Flood-{i}", "x") for i in range(count)]))
    b.add("headers", "10 000 copies of one header", b.unsigned(body, headers=[("X-Same", "x")] * 10000))
    for size in (8192, 65536, 1 << 20):
        b.add("headers", f"{size >> 10} KiB header value", b.unsigned(body, headers=[("X-Long", "v" * size)]))
        b.add("headers", f"{size >> 10} KiB header name", b.unsigned(body, headers=[("X" * size, "v")]))
    b.add("headers", "1 MiB signature header", b.signed(body, signature="v0=" + "f" * (1 << 20)))
    for name, raw in [("no colon", b"X-Broken"), ("space before colon", b"X-Space : v"), ("empty name", b": v"),
                      ("NUL in value", b"X-Nul: a\x00b"), ("NUL in name", b"X-N\x00ul: v"), ("non-ASCII value", "X-Utf8: é✓".encode()),
                      ("invalid UTF-8 value", b"X-Bad: \xff\xfe\xc3"), ("non-ASCII name", "X-Nämé: v".encode()),
                      ("obs-fold continuation", b"X-Fold: a\r\n  folded"), ("CR in value", b"X-Cr: a\rb"),
                      ("control bytes in value", b"X-Ctl: \x01\x02\x7f"), ("header smuggling LF", b"X-A: a\nX-Slack-Signature: v0=00")]:
        head = (f"POST {b.events} HTTP/1.1\r\nHost: {b.host}\r\nContent-Type: application/json\r\n"
                f"X-Slack-Request-Timestamp: {b.now}\r\n").encode() + raw + b"\r\nContent-Length: " + str(len(body)).encode()
        b.add("headers", name, head + b"\r\n\r\n" + body)
    b.add("headers", "no Host", b"POST " + b.events.encode() + b" HTTP/1.1\r\nContent-Length: " + str(len(body)).encode()
          + b"\r\n\r\n" + body)
    b.add("headers", "two Hosts", b.unsigned(body, headers=[("Host", "a.example"), ("Host", "b.example")]))
    b.add("headers", "Expect: 100-continue, unsigned", b.unsigned(body, headers=[("Expect", "100-continue")]))
    b.add("headers", "Expect: something else", b.unsigned(body, headers=[("Expect", "teapot")]))
    b.add("headers", "Upgrade: websocket", b.unsigned(body, headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")]))
    b.add("headers", "Upgrade: h2c", b.unsigned(body, headers=[("Upgrade", "h2c"), ("Connection", "Upgrade, HTTP2-Settings"),
                                                               ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")]))


def _content_lengths(b, small_limit_path):
    body = event_body("EvNEVERTAKEN")
    n = str(len(body))
    for value in ["99999999999999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616", "-1",
                  INT64_MIN, "abc", "1e3", "0x10", " " + n, n + " ", "+" + n, n + ", " + n, n + "," + str(len(body) + 1),
                  "", "\x00" + n, "0" * 100 + n, str(2 << 20), str((1 << 20) + 1)]:
        b.add("Content-Length", f"Content-Length {value[:24]!r}", b.unsigned(body, headers=[("Content-Length", value)]))
    b.add("Content-Length", "two equal Content-Lengths", b.unsigned(body, headers=[("Content-Length", n), ("Content-Length", n)]))
    b.add("Content-Length", "two different Content-Lengths",
          b.unsigned(body, headers=[("Content-Length", n), ("Content-Length", str(len(body) - 10))]))
    b.add("Content-Length", "Content-Length and chunked",
          b.unsigned(b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n", headers=[("Content-Length", n), ("Transfer-Encoding", "chunked")]))
    b.add("Content-Length", "shorter than the body (the rest is garbage)",
          b.unsigned(body + b"GARBAGE / HTTP/1.1\r\n\r\n", headers=[("Content-Length", n)]))
    b.add("Content-Length", "longer than the body (then silence)", b.unsigned(body, headers=[("Content-Length", str(len(body) + 100))]))
    b.add("Content-Length", "no Content-Length on a POST with a body",
          b"POST " + b.events.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n" + body)
    b.add("Content-Length", "over the small app's 64 KiB limit, signed",
          b.signed(event_body("EvNEVERTAKEN", text="x" * 70000), path=small_limit_path))
    big = b"{" + b" " * ((2 << 20) - 2) + b"}"
    b.add("Content-Length", "2 MiB body sent whole", b.unsigned(big))


def _chunked(b):
    body = event_body("EvNEVERTAKEN")

    def chunked(raw):
        return b.unsigned(raw, headers=[("Transfer-Encoding", "chunked")])
    for name, raw in [("size not hex", b"zz\r\n" + body + b"\r\n0\r\n\r\n"), ("negative size", b"-1\r\n" + body + b"\r\n0\r\n\r\n"),
                      ("huge size", b"ffffffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n"),
                      ("size 2^63", b"8000000000000000\r\n" + body + b"\r\n0\r\n\r\n"),
                      ("size larger than the data, then silence", b"%x\r\n" % (len(body) + 50) + body),
                      ("no final chunk, then silence", b"%x\r\n" % len(body) + body + b"\r\n"),
                      ("missing CRLF after data", b"%x\r\n" % len(body) + body + b"0\r\n\r\n"),
                      ("64 KiB chunk extension", b"%x;" % len(body) + b"e" * 65536 + b"\r\n" + body + b"\r\n0\r\n\r\n"),
                      ("10 000 one-byte chunks", b"".join(b"1\r\n" + body[i % len(body):i % len(body) + 1] + b"\r\n"
                                                            for i in range(10000)) + b"0\r\n\r\n"),
                      ("2 MiB in 1 KiB chunks", b"".join(b"400\r\n" + b" " * 1024 + b"\r\n" for _ in range(2048)) + b"0\r\n\r\n"),
                      ("10 000 trailers", b"%x\r\n" % len(body) + body + b"\r\n0\r\n" + b"X-T: v\r\n" * 10000 + b"\r\n"),
                      ("NUL in size", b"1\x000\r\n" + body + b"\r\n0\r\n\r\n")]:
        b.add("chunked", name, chunked(raw))
    for value in ["gzip", "chunked, identity", "identity", "chunked, chunked", "xchunked", "chunked\x00"]:
        b.add("chunked", f"Transfer-Encoding {value!r}", b.unsigned(b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
                                                                    headers=[("Transfer-Encoding", value)]))


def _content_types(b):
    # The ingress reads a body by the path it came to, not by its declared type: a correctly
    # signed event with an odd Content-Type may be taken.
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "", "\x00", "application/json; charset=latin-1",
                         "multipart/form-data; boundary=x"]:
        event_id = b.event_id()
        b.add("content type", f"signed event as {content_type!r}", b.signed(event_body(event_id), content_type=content_type),
              may_accept=True, event_id=event_id)
    for content_type in ["text/plain", "application/xml", "image/png"]:
        b.add("content type", f"unsigned {content_type}", b.unsigned(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
                                                                       headers=[("Content-Type", content_type)]))


def _bodies(b):
    good = event_body("EvNEVERTAKEN")
    for cut in (0, 1, 2, 10, 40, len(good) // 2, len(good) - 2, len(good) - 1):
        b.add("JSON body", f"truncated at {cut} bytes, signed", b.signed(good[:cut]))
    for name, raw in [("null", b"null"), ("array", b"[]"), ("string", b'"event_callback"'), ("number", b"1e99999"),
                      ("true", b"true"), ("whitespace only", b"   \r\n\t "), ("two objects", good + good),
                      ("object then garbage", good + b"garbage"), ("smuggled members", b'{"type":"event_callback"},"type":"x"}'),
                      ("unterminated string", b'{"type":"event_callback","event_id":"Ev'),
                      ("NUL bytes", good[:30] + b"\x00" * 64 + good[30:]), ("invalid UTF-8 outside strings", b"{\xff\xfe}"),
                      ("UTF-16 with BOM", "\ufeff".encode("utf-16-le") + good.decode().encode("utf-16-le")),
                      ("lone surrogate escape", b'{"type":"event_callback","event":{"text":"\\ud800"},"event_id":'),
                      ("bad escape", b'{"type":"event_callback","event_id":"\\x41"}'), ("number overflow key", b'{"event_time":1e400}')]:
        b.add("JSON body", f"{name}, signed", b.signed(raw))
    for depth in (1000, 100_000, 500_000):
        b.add("JSON body", f"{depth} nested arrays, signed", b.signed(b"[" * depth + b"]" * depth))
        b.add("JSON body", f"{depth} nested objects in event, signed",
              b.signed(b'{"type":"event_callback","event_id":"EvNEVERTAKEN","event":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"))
        b.add("JSON body", f"{depth} unclosed arrays, signed", b.signed(b"[" * depth))
    b.add("JSON body", "50 000 members, signed", b.signed(b"{" + b",".join(b'"k%d":1' % i for i in range(50000)) + b"}"))
    b.add("JSON body", "900 KiB string, signed",
          b.signed(b'{"type":"event_callback","event_id":"EvNEVERTAKEN","event":{"text":"' + b"x" * (900 << 10)))
    # Well-formed enough to be taken; a right answer either way, and each has its own id.
    for name, make in [("invalid UTF-8 in a string", lambda e: event_body(e).replace(b"hostile harness probe", b"\xff\xfe\xc3(")),
                       ("event_id twice", lambda e: event_body(e)[:-1] + b',"event_id":"EvSECOND"}'),
                       ("deeply nested (64) event", lambda e: event_body(e)[:-1] + b',"deep":' + b"[" * 64 + b"]" * 64 + b"}"),
                       ("900 KiB text", lambda e: event_body(e, text="y" * (900 << 10)))]:
        event_id = b.event_id()
        b.add("JSON body", f"{name}, signed", b.signed(make(event_id)), may_accept=True, event_id=event_id)


def _forms(b):
    form = "application/x-www-form-urlencoded"
    for name, raw in [("empty", b""), ("no command", b"text=hello&user_id=U1"), ("bad percent escape", b"command=%2&text=%ZZ"),
                      ("100 000 fields", b"&".join([b"a="] * 100000)), ("only separators", b"&&&&&&&&====")]:
        b.add("form body", f"command: {name}, signed", b.signed(raw, path=b.commands, content_type=form))
        b.add("form body", f"command: {name}, unsigned", b.unsigned(raw, path=b.commands, headers=[("Content-Type", form)]))
    for name, raw in [("no payload", b"x=1"), ("payload not JSON", b"payload=%7Bnot-json"), ("payload empty", b"payload="),
                      ("payload 100 000 deep", b"payload=" + b"%5B" * 100000),
                      ("900 KiB payload, unterminated", b"payload=%7B%22a%22%3A%22" + b"q" * (900 << 10))]:
        b.add("form body", f"action: {name}, signed", b.signed(raw, path=b.actions, content_type=form))
    # Well-formed forms, correctly signed: taking them is right too. A command has no event
    # id, so each carries its case's id in its text, where the harness finds it in the sink.
    for name, make in [("invalid UTF-8 escape", lambda m: b"command=/x&text=" + m + b"%FF%FE"),
                       ("900 KiB field", lambda m: b"command=/x&text=" + m + b"z" * (900 << 10)),
                       ("NUL bytes", lambda m: b"command=/x\x00&text=" + m + b"a\x00b"),
                       ("10 000 fields", lambda m: b"command=/x&text=" + m + b"&" + b"&".join([b"f=1"] * 10000))]:
        marker = b.event_id()
        b.add("form body", f"command: {name}, signed", b.signed(make(marker.encode()), path=b.commands, content_type=form),
              may_accept=True, event_id=marker)
    marker = b.event_id()
    b.add("form body", "action: two payloads, signed",
          b.signed(b"payload=%7B%22type%22%3A%22block_actions%22%2C%22m%22%3A%22" + marker.encode() + b"%22%7D&payload=%5B%5D",
                   path=b.actions, content_type=form), may_accept=True, event_id=marker)


def _random_bytes(b, rng):
    for i in range(40):
        size = rng.choice([1, 16, 200, 4096, 65536])
        b.add("random bytes", f"{size} random bytes #{i}", bytes(rng.getrandbits(8) for _ in range(size)))


def _mutations(b, rng):
    # An unsigned request with one to eight bytes replaced, inserted or removed: every result
    # is still unsigned, so nothing may be taken.
    base = b.unsigned(event_body("EvNEVERTAKEN"))
    for i in range(60):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            action = rng.random()
            if action < 0.5:
                data[at] = rng.choice([0, 0x0A, 0x0D, 0x20, 0x3A, 0xFF, rng.getrandbits(8)])
            elif action < 0.8:
                data[at:at] = bytes([rng.getrandbits(8)]) * rng.choice([1, 2, 100])
            else:
                del data[at]
        b.add("mutated", f"unsigned request, mutation #{i}", bytes(data))
