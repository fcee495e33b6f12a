"""The harness's side of the wire: Slack's v0 request signature (our own, from hmac, not the
daemon's), signed event requests built byte by byte, and one exchange on a fresh connection
with a deadline on every step. Nothing here trusts the daemon to answer: every read and write
is bounded, and every way a connection can end is an outcome, not an exception."""
import asyncio
import hashlib
import hmac
import json
import socket
import time

# The outcomes of one exchange besides an HTTP status.
CLOSED = "closed"        # the daemon closed the connection without a response
RESET = "reset"          # the connection was reset (RST), refused, or broke while sending
TIMEOUT = "no answer"    # nothing came back before the deadline (the connection was still open)

# The largest response head and body the harness reads: the daemon's answers are small.
MAX_RESPONSE = 1 << 20


def sign(secret, timestamp, body):
    """`v0=` + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)), as Slack signs."""
    stamp = timestamp if isinstance(timestamp, bytes) else str(timestamp).encode()
    return "v0=" + hmac.new(secret.encode(), b"v0:" + stamp + b":" + body, hashlib.sha256).hexdigest()


def event_body(event_id, text="hostile harness probe"):
    """An Events API `event_callback` body with `event_id`."""
    return json.dumps({
        "token": "unused", "team_id": "T0HOSTILE", "api_app_id": "A0HOSTILE", "type": "event_callback",
        "event": {"type": "message", "user": "U0HOSTILE", "text": text, "channel": "C0HOSTILE", "ts": "1700000000.000100"},
        "event_id": event_id, "event_time": 1700000000,
    }, separators=(",", ":")).encode()


def request(path, body, headers, host="127.0.0.1", method="POST"):
    """The bytes of a request: `headers` is a list of (name, value) pairs (str or bytes) sent
    as given; Host and Content-Length are added unless the list has them already."""
    names = {(n if isinstance(n, str) else n.decode("latin-1")).lower() for n, _ in headers}
    lines = [f"{method} {path} HTTP/1.1".encode()]
    if "host" not in names:
        lines.append(f"Host: {host}".encode())
    for name, value in headers:
        lines.append(_bytes(name) + b": " + _bytes(value))
    if "content-length" not in names and "transfer-encoding" not in names:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed_request(path, body, secret, host, timestamp=None, content_type="application/json", extra=()):
    """A request Slack would send: signed now (or at `timestamp`, sent as given)."""
    stamp = str(int(time.time())) if timestamp is None else timestamp
    headers = [("Content-Type", content_type), ("X-Slack-Request-Timestamp", stamp),
               ("X-Slack-Signature", sign(secret, stamp, body)), *extra]
    return request(path, body, headers, host=host)


async def _read_head(reader, deadline):
    """A response head, or the outcome string when none came."""
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), max(0.0, deadline - time.monotonic()))
    except asyncio.IncompleteReadError as error:
        return CLOSED if not error.partial else RESET
    except (asyncio.TimeoutError, TimeoutError):
        return TIMEOUT
    except (asyncio.LimitOverrunError, ValueError, ConnectionError, OSError):
        return RESET


def _bytes(value):
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


async def read_response(reader, deadline):
    """(status, body) of one response, or (outcome, b"") when none came: CLOSED, RESET or
    TIMEOUT. `deadline` is a time.monotonic() instant."""
    for _ in range(8):  # an interim answer (100 Continue) is followed by the real one
        head = await _read_head(reader, deadline)
        if isinstance(head, str) or not head.startswith(b"HTTP/1.1 1"):
            break
    if isinstance(head, str):
        return head, b""
    try:
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
    except (ValueError, IndexError):
        return RESET, b""
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = min(int(value.strip()), MAX_RESPONSE)
            except ValueError:
                length = 0
    body = b""
    if length:
        try:
            body = await asyncio.wait_for(reader.readexactly(length), max(0.0, deadline - time.monotonic()))
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, TimeoutError, ConnectionError, OSError):
            pass  # the status is what counts
    return status, body


async def connect(port, deadline):
    """(reader, writer) of a new connection to 127.0.0.1:`port`, or the outcome string when
    it could not be made before the deadline."""
    try:
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=MAX_RESPONSE),
                                      max(0.01, deadline - time.monotonic()))
    except (asyncio.TimeoutError, TimeoutError):
        return TIMEOUT
    except (ConnectionError, OSError):
        return RESET


async def send(writer, data, deadline):
    """Writes `data`; False when the daemon closed or reset the connection first, or the
    write did not drain before the deadline (the daemon stopped reading)."""
    try:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), max(0.01, deadline - time.monotonic()))
        return True
    except (asyncio.TimeoutError, TimeoutError, ConnectionError, OSError):
        return False


def close(writer):
    """Closes a connection without waiting (RST when data is left unread is fine)."""
    try:
        writer.transport.abort()
    except (OSError, RuntimeError):
        pass


async def exchange(port, data, timeout):
    """Sends `data` on a fresh connection and reads one response: (status or outcome,
    seconds from connect to answer, body)."""
    start = time.monotonic()
    deadline = start + timeout
    made = await connect(port, deadline)
    if isinstance(made, str):
        return made, time.monotonic() - start, b""
    reader, writer = made
    try:
        sent = await send(writer, data, deadline)
        status, body = await read_response(reader, deadline)
        # A daemon that refuses a request while it is still being sent may answer first and
        # then close: the answer counts; without one, the broken send does.
        if not sent and status == TIMEOUT:
            status = RESET
        return status, time.monotonic() - start, body
    finally:
        close(writer)


def blocking_exchange(port, data, timeout):
    """`exchange` with blocking sockets, for a thread of its own: (status or outcome,
    seconds from connect to answer)."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            received = b""
            while b"\r\n\r\n" not in received and len(received) < MAX_RESPONSE:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    return (CLOSED if not received else RESET), time.monotonic() - start
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = min(int(value), MAX_RESPONSE)
            while len(body) < length:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            return status, time.monotonic() - start
    except (socket.timeout, TimeoutError):
        return TIMEOUT, time.monotonic() - start
    except (OSError, ValueError, IndexError):
        return RESET, time.monotonic() - start
