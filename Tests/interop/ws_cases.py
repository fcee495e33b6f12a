"""The WebSocket conformance cases: Autobahn TestSuite's sections 1-7 and 9 (case numbers and
expectations from its case descriptions), as scripts a Python server plays against the echo
client, plus a few rules Autobahn does not test from the client side (marked X).

A case is played by one server:
- `websockets`: the `websockets` library's own API (send, fragmented send, ping, close);
- `aiohttp`: aiohttp's WebSocketResponse API;
- `aiohttp+raw`: aiohttp does the upgrade and reads the client's replies, and the frames are
  written as raw bytes on its transport (for what no library will send: reserved bits and
  opcodes, masked or malformed frames, invalid UTF-8, bad close codes, chopped writes).

Script steps: ("send", "text"|"binary", payload), ("fragments", [payloads]) (websockets:
one message in several frames), ("ping", payload), ("pong", payload), ("close", code,
reason), ("raw", bytes, chop) (chop: write in pieces of that many bytes, 0 for one write),
("sleep", seconds).

Expected end: ("echo",) - the client echoes, then the server closes with 1000 and the client
answers 1000; ("close", code) - the script's close (None: an empty one) is answered with the
same code; ("fail", code) - the client fails the connection with that close code (1002
protocol error, 1007 invalid UTF-8, 1009 message too big). `replies` are what the server must
receive before that, in order: ("text"|"binary"|"pong", bytes)."""
from dataclasses import dataclass, field

import ws_frames as f

# The echo client's message limit: SockeyeCore's WebSocketFrameDecoder default, which
# Sockeye's clients use unless configured otherwise (SocketModeOptions.maxMessageSize).
LIMIT = 1 << 20


@dataclass
class Case:
    id: str
    server: str
    sent: str
    script: list
    end: tuple
    replies: list = field(default_factory=list)

    @property
    def key(self):
        return f"{self.id}-{self.server}".replace("+", "-")

    @property
    def expected(self):
        """The expected behaviour, for the table."""
        kind = self.end[0]
        if kind == "echo":
            what = "close 1000 answered with 1000"
        elif kind == "close":
            code = self.end[1]
            what = "empty close answered with an empty close" if code is None else f"close {code} answered with {code}"
        else:
            what = f"fail with close {self.end[1]}"
        if not self.replies:
            return what if kind != "echo" else f"nothing back; {what}"
        counts = {}
        for reply, _ in self.replies:
            counts[reply] = counts.get(reply, 0) + 1
        return ", ".join(f"{n} {reply}" for reply, n in counts.items()) + f" back; {what}"


def raw(*frames, chop=0):
    return ("raw", b"".join(frames), chop)


def echo_of(kind, payload):
    return (kind, payload.encode() if isinstance(payload, str) else payload)


CASES = []


def case(id, server, sent, script, end, replies=()):
    CASES.append(Case(id, server, sent, list(script), end, list(replies)))


HELLO = "Hello, world!"

# 1: text and binary messages of many sizes.
SIZES = [0, 125, 126, 127, 128, 65535, 65536]
for library in ("websockets", "aiohttp"):
    for i, size in enumerate(SIZES, start=1):
        case(f"1.1.{i}", library, f"text message of {size} bytes", [("send", "text", "*" * size)], ("echo",),
             [echo_of("text", "*" * size)])
        case(f"1.2.{i}", library, f"binary message of {size} bytes", [("send", "binary", b"\xfe" * size)], ("echo",),
             [echo_of("binary", b"\xfe" * size)])
case("1.1.8", "aiohttp+raw", "text message of 65536 bytes written in chops of 997 bytes",
     [raw(f.text("*" * 65536), chop=997)], ("echo",), [echo_of("text", "*" * 65536)])
case("1.2.8", "aiohttp+raw", "binary message of 65536 bytes written in chops of 997 bytes",
     [raw(f.binary(b"\xfe" * 65536), chop=997)], ("echo",), [echo_of("binary", b"\xfe" * 65536)])

# 2: pings and pongs.
for library in ("websockets", "aiohttp"):
    case("2.1", library, "ping without payload", [("ping", b"")], ("echo",), [("pong", b"")])
    case("2.2", library, "ping with a small text payload", [("ping", HELLO.encode())], ("echo",), [("pong", HELLO.encode())])
    case("2.3", library, "ping with a small binary payload", [("ping", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")], ("echo",),
         [("pong", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")])
    case("2.4", library, "ping with a 125-byte binary payload", [("ping", b"\xfe" * 125)], ("echo",), [("pong", b"\xfe" * 125)])
    case("2.10", library, "10 pings", [("ping", f"payload-{i}".encode()) for i in range(10)], ("echo",),
         [("pong", f"payload-{i}".encode()) for i in range(10)])
case("2.5", "aiohttp+raw", "ping with a 126-byte payload (over the control frame limit)", [raw(f.ping(b"\xfe" * 126))],
     ("fail", 1002))
case("2.6", "aiohttp+raw", "ping with a 125-byte payload written in 1-byte chops", [raw(f.ping(b"\xfe" * 125), chop=1)],
     ("echo",), [("pong", b"\xfe" * 125)])
case("2.7", "aiohttp", "unsolicited pong without payload", [("pong", b"")], ("echo",))
case("2.8", "aiohttp", "unsolicited pong with payload", [("pong", b"unsolicited pong payload")], ("echo",))
case("2.9", "aiohttp", "unsolicited pong, then a ping", [("pong", b"unsolicited pong payload"), ("ping", b"ping payload")],
     ("echo",), [("pong", b"ping payload")])
case("2.11", "aiohttp+raw", "10 pings, each written in 1-byte chops",
     [raw(f.ping(f"payload-{i}"), chop=1) for i in range(10)], ("echo",), [("pong", f"payload-{i}".encode()) for i in range(10)])

# 3: reserved bits (no extension was negotiated).
case("3.1", "aiohttp+raw", "text with RSV=1", [raw(f.text(HELLO, rsv=4))], ("fail", 1002))
case("3.2", "aiohttp+raw", "text, then text with RSV=2, then ping",
     [raw(f.text(HELLO)), raw(f.text(HELLO, rsv=2)), raw(f.ping(HELLO))], ("fail", 1002), [echo_of("text", HELLO)])
case("3.3", "aiohttp+raw", "text, then text with RSV=3, then ping, in one write",
     [raw(f.text(HELLO), f.text(HELLO, rsv=6), f.ping(HELLO))], ("fail", 1002), [echo_of("text", HELLO)])
case("3.4", "aiohttp+raw", "text, then text with RSV=4, then ping, in 1-byte chops",
     [raw(f.text(HELLO), f.text(HELLO, rsv=1), f.ping(HELLO), chop=1)], ("fail", 1002), [echo_of("text", HELLO)])
case("3.5", "aiohttp+raw", "binary with RSV=5", [raw(f.binary(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5))], ("fail", 1002))
case("3.6", "aiohttp+raw", "ping with RSV=6", [raw(f.ping(HELLO, rsv=3))], ("fail", 1002))
case("3.7", "aiohttp+raw", "close with RSV=7", [raw(f.close(1000, rsv=7))], ("fail", 1002))

# 4: reserved opcodes.
for number, (opcode, payload, after_text) in enumerate([(3, b"", False), (4, b"reserved opcode payload", False),
                                                      (5, b"", True), (6, b"reserved opcode payload", True),
                                                      (7, b"reserved opcode payload", True)], start=1):
    frames = ([f.text(HELLO)] if after_text else []) + [f.frame(opcode, payload), f.ping(HELLO)]
    case(f"4.1.{number}", "aiohttp+raw", f"{'text, then ' if after_text else ''}frame with reserved non-control opcode "
         f"{opcode}{' and a payload' if payload else ''}, then ping", [raw(*frames)], ("fail", 1002),
         [echo_of("text", HELLO)] if after_text else [])
for number, (opcode, payload, after_text) in enumerate([(11, b"", False), (12, b"reserved opcode payload", False),
                                                      (13, b"", True), (14, b"reserved opcode payload", True),
                                                      (15, b"reserved opcode payload", True)], start=1):
    frames = ([f.text(HELLO)] if after_text else []) + [f.frame(opcode, payload), f.ping(HELLO)]
    case(f"4.2.{number}", "aiohttp+raw", f"{'text, then ' if after_text else ''}frame with reserved control opcode "
         f"{opcode}{' and a payload' if payload else ''}, then ping", [raw(*frames)], ("fail", 1002),
         [echo_of("text", HELLO)] if after_text else [])

# 5: fragmentation.
case("5.1", "aiohttp+raw", "ping in 2 fragments", [raw(f.ping("fragment1", fin=False), f.continuation("fragment2"))], ("fail", 1002))
case("5.2", "aiohttp+raw", "pong in 2 fragments", [raw(f.pong("fragment1", fin=False), f.continuation("fragment2"))], ("fail", 1002))
two = [f.text("fragment1", fin=False), f.continuation("fragment2")]
for number, (how, steps) in zip((3, 4, 5), [("in one write", [raw(*two)]),
                                             ("frame by frame, with a pause between", [raw(two[0]), ("sleep", 0.1), raw(two[1])]),
                                             ("in 1-byte chops", [raw(*two, chop=1)])]):
    case(f"5.{number}", "aiohttp+raw", f"text in 2 fragments, {how}", steps, ("echo",), [echo_of("text", "fragment1fragment2")])
case("5.3", "websockets", "text in 2 fragments (websockets' fragmented send)", [("fragments", ["fragment1", "fragment2"])],
     ("echo",), [echo_of("text", "fragment1fragment2")])
with_ping = [f.text("fragment1", fin=False), f.ping("pongme!"), f.continuation("fragment2")]
for number, (how, steps) in zip((6, 7, 8), [("in one write", [raw(*with_ping)]),
                                             ("frame by frame, with pauses", [raw(with_ping[0]), ("sleep", 0.1), raw(with_ping[1]),
                                                                              ("sleep", 0.1), raw(with_ping[2])]),
                                             ("in 1-byte chops", [raw(*with_ping, chop=1)])]):
    case(f"5.{number}", "aiohttp+raw", f"text in 2 fragments with a ping between them, {how}", steps, ("echo",),
         [("pong", b"pongme!"), echo_of("text", "fragment1fragment2")])
orphan_final = [f.continuation("fragment1"), f.text("fragment2", fin=False), f.continuation("fragment3")]
orphan_open = [f.continuation("fragment1", fin=False), f.text("fragment2", fin=False), f.continuation("fragment3")]
for first, (frames, what) in ((9, (orphan_final, "FIN=1")), (12, (orphan_open, "FIN=0"))):
    for offset, (how, chop) in enumerate([("in one write", 0), ("in 1-byte chops", 1), ("frame by frame", -1)]):
        steps = [raw(frame) for frame in frames] if chop < 0 else [raw(*frames, chop=chop)]
        case(f"5.{first + offset}", "aiohttp+raw", f"continuation with {what} and nothing to continue, then a "
             f"fragmented text, {how}", steps, ("fail", 1002))
case("5.15", "aiohttp+raw", "text in 2 fragments, then a continuation with FIN=0 and nothing to continue, then text",
     [raw(f.text("fragment1", fin=False), f.continuation("fragment2"), f.continuation("fragment3", fin=False),
          f.text("fragment4"))], ("fail", 1002), [echo_of("text", "fragment1fragment2")])
case("5.16", "aiohttp+raw", "twice: continuation with FIN=0 (nothing to continue), then text in 2 fragments",
     [raw(*(orphan_open * 2))], ("fail", 1002))
case("5.17", "aiohttp+raw", "twice: continuation with FIN=1 (nothing to continue), then text in 2 fragments",
     [raw(*(orphan_final * 2))], ("fail", 1002))
case("5.18", "aiohttp+raw", "text in 2 fragments, both with the text opcode",
     [raw(f.text("fragment1", fin=False), f.text("fragment2"))], ("fail", 1002))
five = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"]
for number, chop in ((19, 0), (20, 1)):
    steps = [raw(f.text(five[0], fin=False), f.continuation(five[1], fin=False), f.ping("pongme 1!"), chop=chop),
             ("sleep", 0.3),
             raw(f.continuation(five[2], fin=False), f.continuation(five[3], fin=False), f.ping("pongme 2!"),
                 f.continuation(five[4]), chop=chop)]
    case(f"5.{number}", "aiohttp+raw", "text in 5 fragments, a ping after the 2nd, a pause, a ping after the 4th"
         + (", in 1-byte chops" if chop else ""), steps, ("echo",),
         [("pong", b"pongme 1!"), ("pong", b"pongme 2!"), echo_of("text", "".join(five))])

# 6: UTF-8.
case("6.1.1", "aiohttp+raw", "text of 0 bytes", [raw(f.text(""))], ("echo",), [echo_of("text", "")])
case("6.1.2", "aiohttp+raw", "text in 3 empty fragments",
     [raw(f.text("", fin=False), f.continuation("", fin=False), f.continuation(""))], ("echo",), [echo_of("text", "")])
case("6.1.3", "aiohttp+raw", "text in 3 fragments: empty, 'middle frame payload', empty",
     [raw(f.text("", fin=False), f.continuation("middle frame payload", fin=False), f.continuation(""))], ("echo",),
     [echo_of("text", "middle frame payload")])
VALID = "Hello-µ@ßöäüàá-UTF-8!!".encode()
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"


def fragments(payload, size):
    """`payload` as a text message in fragments of `size` bytes (the last may be shorter)."""
    parts = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
    return [f.frame(1 if i == 0 else 0, part, fin=i == len(parts) - 1) for i, part in enumerate(parts)]


case("6.2.1", "aiohttp+raw", "valid UTF-8 text in one frame", [raw(f.text(VALID))], ("echo",), [("text", VALID)])
case("6.2.2", "aiohttp+raw", "valid UTF-8 text in 2 fragments split at a code point boundary",
     [raw(f.text(VALID[:12], fin=False), f.continuation(VALID[12:]))], ("echo",), [("text", VALID)])
case("6.2.3", "aiohttp+raw", "valid UTF-8 text in 1-byte fragments (frames end inside code points)",
     [raw(*fragments(VALID, 1))], ("echo",), [("text", VALID)])
case("6.2.4", "aiohttp+raw", "'κόσμε' in 1-byte fragments (frames end inside code points)", [raw(*fragments(KOSME, 1))],
     ("echo",), [("text", KOSME)])
INVALID = KOSME + b"\xed\xa0\x80" + b"edited"
case("6.3.1", "aiohttp+raw", "invalid UTF-8 (a surrogate) in one frame", [raw(f.text(INVALID))], ("fail", 1007))
case("6.3.2", "aiohttp+raw", "invalid UTF-8 (a surrogate) in 1-byte fragments", [raw(*fragments(INVALID, 1))], ("fail", 1007))
PART1, PART2, PART3 = KOSME, b"\xf4\x90\x80\x80", b"edited"
case("6.4.1", "aiohttp+raw", "text in 3 fragments with pauses: valid, then a code point over U+10FFFF, then the rest",
     [raw(f.text(PART1, fin=False)), ("sleep", 0.2), raw(f.continuation(PART2, fin=False)), ("sleep", 0.2),
      raw(f.continuation(PART3))], ("fail", 1007))
case("6.4.2", "aiohttp+raw", "text in 3 fragments with pauses, invalid at the 2nd fragment's first byte (F4 then 90)",
     [raw(f.text(PART1 + b"\xf4", fin=False)), ("sleep", 0.2), raw(f.continuation(b"\x90", fin=False)), ("sleep", 0.2),
      raw(f.continuation(b"\x80\x80" + PART3))], ("fail", 1007))
whole = PART1 + PART2 + PART3
case("6.4.3", "aiohttp+raw", "the 6.4.1 text in one frame, written in 3 chops with pauses",
     [raw(f.text(whole)[:2 + len(PART1)]), ("sleep", 0.2), raw(f.text(whole)[2 + len(PART1):2 + len(PART1) + 4]),
      ("sleep", 0.2), raw(f.text(whole)[2 + len(PART1) + 4:])], ("fail", 1007))
case("6.4.4", "aiohttp+raw", "the 6.4.2 text in one frame, written in 3 chops with pauses (split after F4)",
     [raw(f.text(whole)[:2 + len(PART1) + 1]), ("sleep", 0.2), raw(f.text(whole)[2 + len(PART1) + 1:2 + len(PART1) + 2]),
      ("sleep", 0.2), raw(f.text(whole)[2 + len(PART1) + 2:])], ("fail", 1007))


def utf8_groups():
    """Markus Kuhn's UTF-8 decoder test sequences, grouped as Autobahn's cases 6.5-6.23 are:
    (title, [(valid, bytes)])."""
    def valid(b):
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
               b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    lonely = []
    for low, high in [(0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD)]:
        lonely.append(b"".join(bytes([i, 0x20]) for i in range(low, high)))
    nonchars = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for z1 in b"\xf0\xf1\xf2\xf3\xf4":
        for z2 in b"\x8f\x9f\xaf\xbf":
            if z1 == 0xF4 and z2 != 0x8F:
                continue
            for z3 in b"\xbe\xbf":
                seq = bytes([z1, z2, 0xBF, z3])
                if seq not in (b"\xf0\x8f\xbf\xbe", b"\xf0\x8f\xbf\xbf"):
                    nonchars.append(seq)
    groups = [
        ("some valid UTF-8 sequences", [b"hello\x24world", b"hello\xc2\xa2world", b"hello\xe2\x82\xacworld",
                                        b"hello\xf0\xa4\xad\xa2world", KOSME]),
        ("every prefix of 'κόσμε'", [KOSME[:i] for i in range(1, len(KOSME) + 1)]),
        ("first possible sequence of each length", [b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80"]),
        ("first possible 5- and 6-byte sequences", [b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]),
        ("last possible sequence of each length", [b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]),
        ("last possible 4-, 5- and 6-byte sequences", [b"\xf7\xbf\xbf\xbf", b"\xfb\xbf\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf\xbf"]),
        ("other boundary conditions", [b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80"]),
        ("unexpected continuation bytes", [b"\x80", b"\xbf", b"\x80\xbf", b"\x80\xbf\x80", b"\x80\xbf\x80\xbf",
                                           b"\x80\xbf\x80\xbf\x80", b"\x80\xbf\x80\xbf\x80\xbf", bytes(range(0x80, 0xBF))]),
        ("lonely start bytes", lonely),
        ("sequences with the last continuation byte missing", missing),
        ("concatenated incomplete sequences", [b"".join(missing)]),
        ("impossible bytes", [b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"]),
        ("overlong ASCII", [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf"]),
        ("maximum overlong sequences", [b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf", b"\xf8\x87\xbf\xbf\xbf",
                                        b"\xfc\x83\xbf\xbf\xbf\xbf"]),
        ("overlong NUL", [b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80"]),
        ("single UTF-16 surrogates", [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf", b"\xed\xb0\x80",
                                      b"\xed\xbe\x80", b"\xed\xbf\xbf"]),
        ("paired UTF-16 surrogates", [b"\xed\xa0\x80\xed\xb0\x80", b"\xed\xa0\x80\xed\xbf\xbf", b"\xed\xad\xbf\xed\xb0\x80",
                                      b"\xed\xad\xbf\xed\xbf\xbf", b"\xed\xae\x80\xed\xb0\x80", b"\xed\xae\x80\xed\xbf\xbf",
                                      b"\xed\xaf\xbf\xed\xb0\x80", b"\xed\xaf\xbf\xed\xbf\xbf"]),
        ("noncharacters (valid UTF-8)", nonchars),
        ("Unicode specials (valid UTF-8)", [b"\xef\xbf\xb9", b"\xef\xbf\xba", b"\xef\xbf\xbb", b"\xef\xbf\xbc", b"\xef\xbf\xbd",
                                           b"\xef\xbf\xbe", b"\xef\xbf\xbf"]),
    ]
    return [(title, [(valid(seq), seq) for seq in seqs]) for title, seqs in groups]


for group, (title, sequences) in enumerate(utf8_groups(), start=5):
    for number, (is_valid, payload) in enumerate(sequences, start=1):
        case(f"6.{group}.{number}", "aiohttp+raw", f"{title}: {payload.hex(' ') if len(payload) <= 12 else payload[:12].hex(' ') + ' …'}"
             f" ({'valid' if is_valid else 'invalid'})", [raw(f.text(payload))],
             ("echo",) if is_valid else ("fail", 1007), [("text", payload)] if is_valid else [])

# 7: closing.
case("7.1.1", "aiohttp+raw", "text, then close 1000", [raw(f.text("Hello World!"), f.close(1000))], ("close", 1000),
     [echo_of("text", "Hello World!")])
case("7.1.2", "aiohttp+raw", "close 1000 twice", [raw(f.close(1000), f.close(1000))], ("close", 1000))
case("7.1.3", "aiohttp+raw", "close 1000, then a ping (not answered)", [raw(f.close(1000), f.ping(HELLO))], ("close", 1000))
case("7.1.4", "aiohttp+raw", "close 1000, then text (not echoed)", [raw(f.close(1000), f.text(HELLO))], ("close", 1000))
case("7.1.5", "aiohttp+raw", "first fragment, close 1000, then the last fragment",
     [raw(f.text("fragment1", fin=False), f.close(1000), f.continuation("fragment2"))], ("close", 1000))
case("7.1.6", "aiohttp+raw", "256 KiB text, small text, close 1000, ping, back to back",
     [raw(f.text("BAsd7&jh23" * 26214 + "BAsd"), f.text("Hello World!"), f.close(1000), f.ping())], ("close", 1000),
     [echo_of("text", "BAsd7&jh23" * 26214 + "BAsd"), echo_of("text", "Hello World!")])
case("7.3.1", "aiohttp+raw", "close with an empty payload", [raw(f.close())], ("close", None))
case("7.3.2", "aiohttp+raw", "close with a 1-byte payload", [raw(f.frame(8, b"\x03"))], ("fail", 1002))
case("7.3.3", "websockets", "close 1000 (websockets' close)", [("close", 1000, "")], ("close", 1000))
case("7.3.4", "websockets", "close 1000 with a reason (websockets' close)", [("close", 1000, "Hello World!")], ("close", 1000))
case("7.3.5", "aiohttp+raw", "close 1000 with a 123-byte reason (the largest that fits)", [raw(f.close(1000, "*" * 123))],
     ("close", 1000))
case("7.3.6", "aiohttp+raw", "close 1000 with a 124-byte reason (a 126-byte control frame)", [raw(f.close(1000, "*" * 124))],
     ("fail", 1002))
case("7.5.1", "aiohttp+raw", "close 1000 with a reason that is not UTF-8", [raw(f.close(1000, INVALID))], ("fail", 1007))
for number, code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], start=1):
    case(f"7.7.{number}", "aiohttp", f"close {code} (aiohttp's close)", [("close", code, "")], ("close", code))
for number, code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999], start=1):
    case(f"7.9.{number}", "aiohttp+raw", f"close with the invalid code {code}", [raw(f.close(code))], ("fail", 1002))
# Autobahn leaves these open ("undefined by the spec"); RFC 6455 gives 5000+ no meaning.
case("7.13.1", "aiohttp+raw", "close 5000", [raw(f.close(5000))], ("fail", 1002))
case("7.13.2", "aiohttp+raw", "close 65535", [raw(f.close(65535))], ("fail", 1002))

# 9: large messages, scaled to the client's limit (Autobahn goes to 16 MiB).
KIB = 1024
for kind, section, library in (("text", 1, "websockets"), ("binary", 2, "aiohttp")):
    byte = "*" if kind == "text" else b"\xfe"
    for number, size in enumerate([64 * KIB, 256 * KIB, LIMIT, LIMIT + 1, 2 * LIMIT, 4 * LIMIT], start=1):
        over = size > LIMIT
        case(f"9.{section}.{number}", library, f"{kind} message of {size} bytes" + (" (the limit)" if size == LIMIT else
             " (over the limit)" if over else ""), [("send", kind, byte * size)], ("fail", 1009) if over else ("echo",),
             [] if over else [echo_of(kind, byte * size)])
for kind, section in (("text", 3), ("binary", 4)):
    byte = "*" if kind == "text" else b"\xfe"
    sizes = [64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, LIMIT]
    for number, size in enumerate(sizes, start=1):
        parts = [byte * size] * (LIMIT // size)
        case(f"9.{section}.{number}", "websockets", f"{kind} message of {LIMIT} bytes (the limit) in fragments of {size} bytes",
             [("fragments", parts)], ("echo",), [echo_of(kind, byte * LIMIT)])
    case(f"9.{section}.9", "websockets", f"{kind} message of {LIMIT + 1} bytes in fragments of 64 KiB and 1 byte "
         "(over the limit only with its last fragment)", [("fragments", [byte * (64 * KIB)] * (LIMIT // (64 * KIB)) + [byte])],
         ("fail", 1009))
for kind, section in (("text", 5), ("binary", 6)):
    make = f.text if kind == "text" else f.binary
    byte = "*" if kind == "text" else b"\xfe"
    for number, chop in enumerate([64, 128, 256, 512, 1024, 2048], start=1):
        case(f"9.{section}.{number}", "aiohttp+raw", f"{kind} message of {LIMIT} bytes written in chops of {chop} bytes",
             [raw(make(byte * LIMIT), chop=chop)], ("echo",), [echo_of(kind, byte * LIMIT)])
for kind, section, library in (("text", 7, "websockets"), ("binary", 8, "aiohttp")):
    byte = "*" if kind == "text" else b"\xfe"
    for number, size in enumerate([0, 16, 64, 256, KIB, 4 * KIB], start=1):
        case(f"9.{section}.{number}", library, f"1000 {kind} messages of {size} bytes", [("send", kind, byte * size)] * 1000,
             ("echo",), [echo_of(kind, byte * size)] * 1000)

# X: rules a client must enforce that Autobahn tests only on servers.
case("X.1", "aiohttp+raw", "a masked text frame (servers must not mask)",
     [raw(f.frame(1, HELLO, mask=b"\x01\x02\x03\x04"))], ("fail", 1002))
case("X.2", "aiohttp+raw", "a binary frame whose 64-bit length has its top bit set",
     [raw(f.frame(2, b"", length=(1 << 63) + 5))], ("fail", 1002))
case("X.3", "aiohttp+raw", "a 125-byte text frame whose length is written in the 64-bit form (longer than needed)",
     [raw(b"\x81\x7f" + (125).to_bytes(8, "big") + b"*" * 125)], ("echo",), [echo_of("text", "*" * 125)])
case("X.4", "aiohttp+raw", "text in 2 fragments whose sizes add up to one byte over the limit",
     [raw(f.text(b"*" * (LIMIT // 2), fin=False), f.continuation(b"*" * (LIMIT // 2 + 1)))], ("fail", 1009))
