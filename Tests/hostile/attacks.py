"""The attacks that are about connections rather than bytes: idle connections held open, heads
and bodies sent one byte at a time, and a flood of unsigned requests. Each returns a Counter
of what happened (how connections ended, which statuses came back) and never runs past its
own deadline; every connection it opens it also closes."""
import asyncio
import collections
import time

from wire import RESET, TIMEOUT, close, connect, event_body, read_response, request, send, sign


async def _gather_bounded(coroutines, limit):
    """Runs `coroutines` with at most `limit` at once."""
    gate = asyncio.Semaphore(limit)

    async def run(coroutine):
        async with gate:
            return await coroutine
    return await asyncio.gather(*(run(c) for c in coroutines))


async def _watch(reader, until):
    """How a connection the harness keeps open ended: a status when the daemon answered
    (then it usually closes), CLOSED or RESET, or None when it was still open at `until`."""
    status, _ = await read_response(reader, until)
    return None if status == TIMEOUT else status


def _ended(outcome, opened_at, ended_at, counts, close_times):
    if outcome is None:
        counts["still open at the end"] += 1
        return
    label = f"answered {outcome}" if isinstance(outcome, int) else f"{outcome} by the daemon"
    counts[label] += 1
    close_times.append(ended_at - opened_at)


async def idle_connections(port, count, hold_seconds, connect_timeout=10.0):
    """Opens `count` connections that send nothing and holds them for `hold_seconds` after
    the last one was tried."""
    counts = collections.Counter()
    close_times = []
    opened = []

    async def open_one():
        made = await connect(port, time.monotonic() + connect_timeout)
        if isinstance(made, str):
            counts["connect refused" if made == RESET else "connect timed out"] += 1
            return
        counts["opened"] += 1
        opened.append((made, time.monotonic()))

    await _gather_bounded([open_one() for _ in range(count)], 256)
    until = time.monotonic() + hold_seconds

    async def hold(made, opened_at):
        reader, writer = made
        try:
            outcome = await _watch(reader, until)
            _ended(outcome, opened_at, time.monotonic(), counts, close_times)
        finally:
            close(writer)
    await asyncio.gather(*(hold(m, t) for m, t in opened))
    return counts, close_times


async def slow_heads(port, count, seconds, host, interval=1.0):
    """`count` connections each sending a request head one byte per `interval` for `seconds`
    (a head that would take minutes to finish)."""
    head = request("/slack/events", b"", [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", "1700000000"),
                                         ("X-Slack-Signature", "v0=" + "0" * 64), ("User-Agent", "slow" * 100)],
                   host=host)[:-4]
    return await _trickle(port, count, seconds, interval, lambda _: (b"", head))


async def slow_bodies(port, count, seconds, host, secret, interval=1.0):
    """`count` connections each sending a valid signed head, then its body one byte per
    `interval` for `seconds`."""
    def parts(index):
        body = event_body(f"EvSLOWBODY{index:05d}", text="s" * 2000)
        stamp = str(int(time.time()))
        whole = request("/slack/events", body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", stamp),
                                                ("X-Slack-Signature", sign(secret, stamp, body))], host=host)
        return whole[:len(whole) - len(body)], body
    return await _trickle(port, count, seconds, interval, parts)


async def _trickle(port, count, seconds, interval, parts):
    counts = collections.Counter()
    close_times = []
    end = time.monotonic() + seconds

    async def one(index):
        opened_at = time.monotonic()
        made = await connect(port, opened_at + 10)
        if isinstance(made, str):
            counts["connect refused" if made == RESET else "connect timed out"] += 1
            return
        counts["opened"] += 1
        reader, writer = made
        first, rest = parts(index)
        watcher = asyncio.create_task(_watch(reader, end))
        try:
            if first and not await send(writer, first, end):
                counts["broken while sending"] += 1
            for position in range(len(rest)):
                if watcher.done() or time.monotonic() >= end:
                    break
                if not await send(writer, rest[position:position + 1], end):
                    break
                await asyncio.wait([watcher], timeout=max(0.0, min(interval, end - time.monotonic())))
            _ended(await watcher, opened_at, time.monotonic(), counts, close_times)
        finally:
            watcher.cancel()
            close(writer)
    await asyncio.gather(*(one(i) for i in range(count)))
    return counts, close_times


def flood_requests(secret, host, now):
    """The requests of the flood, in turn: unsigned, wrongly signed, signed with another
    secret, and stale."""
    body = event_body("EvFLOODNEVERTAKEN")
    stamp = str(now)
    return [
        request("/slack/events", body, [("Content-Type", "application/json")], host=host),
        request("/slack/events", body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", stamp),
                                        ("X-Slack-Signature", "v0=" + "0" * 64)], host=host),
        request("/slack/events", body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", stamp),
                                        ("X-Slack-Signature", sign(secret + "-not", stamp, body))], host=host),
        request("/slack/events", body, [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", str(now - 3600)),
                                        ("X-Slack-Signature", sign(secret, str(now - 3600), body))], host=host),
    ]


async def flood(port, seconds, host, secret, workers=6, pipeline=16):
    """Unsigned and wrongly signed POSTs as fast as `workers` tasks can send them for
    `seconds`: a third of the workers open a connection per request, a third keep theirs
    alive, a third pipeline `pipeline` requests per write."""
    counts = collections.Counter()
    requests = flood_requests(secret, host, int(time.time()))
    end = time.monotonic() + seconds

    async def worker(index):
        mode = index % 3
        sent = 0
        made = None
        while time.monotonic() < end:
            if made is None:
                made = await connect(port, min(end, time.monotonic() + 5))
                if isinstance(made, str):
                    counts[f"connect {made}"] += 1
                    made = None
                    await asyncio.sleep(0.01)
                    continue
                counts["connections"] += 1
            reader, writer = made
            batch = [requests[(sent + i) % len(requests)] for i in range(pipeline if mode == 2 else 1)]
            sent += len(batch)
            counts["requests"] += len(batch)
            deadline = min(end + 5, time.monotonic() + 10)
            alive = await send(writer, b"".join(batch), deadline)
            for _ in batch:
                status, _ = await read_response(reader, deadline)
                counts[status if isinstance(status, int) else f"{status}"] += 1
                if not isinstance(status, int):
                    alive = False
                    break
            if mode == 0 or not alive:
                close(writer)
                made = None
        if made is not None:
            close(made[1])
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return counts
