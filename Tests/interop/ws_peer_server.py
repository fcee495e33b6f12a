#!/usr/bin/env python3
"""WebSocket servers written by others, for SockeyeCore's WebSocket codec interop tests.

    ws_peer_server.py websockets|aiohttp

Listens on 127.0.0.1 on a free port and prints {"port": N} as its first stdout line. The
request path picks the scenario of each connection (see SCENARIOS); when a connection ends,
one JSON line reports what the server saw from the client (pong payloads, echoed texts,
the client's close code), so the Swift test (Tests/SockeyeCoreTests/Interop/) asserts on both
sides. Runs until killed.

The client under test answers every ping with a pong carrying the same bytes, echoes every
text message back as text, echoes the server's close code, and closes with its own code
(1007, 1009) when a frame breaks its rules.
"""

import asyncio
import json
import sys

PING = b"ping-between-fragments"
# Three fragments; the aiohttp server splits the check mark (3 bytes of UTF-8) between the
# last two fragments, which the websockets API cannot do (it fragments str by str).
FRAGMENTS = ["Hello, ", "fragmented ", "world \u2713"]
FRAGMENTED_TEXT = "".join(FRAGMENTS)
LARGE_TEXT = "".join(chr(0x61 + i % 26) for i in range(100_000))  # 64-bit length on the wire
OVERSIZE = 200_000  # the client's limit in the test is 128 KiB
INVALID_UTF8 = b"valid prefix \xff\xfe"
TIMEOUT = 10


def report(**fields):
    print(json.dumps(fields), flush=True)


# ---------------------------------------------------------------- websockets (asyncio API)


async def websockets_handler(ws):
    scenario = ws.request.path.strip("/")
    seen = {"library": "websockets", "scenario": scenario, "pong": None, "echo": None}
    try:
        if scenario == "fragmented":

            async def fragments():
                yield FRAGMENTS[0]
                # A ping between fragments; the waiter resolves only on a pong whose payload
                # equals PING.
                waiter = await ws.ping(PING)
                seen["ping_waiter"] = waiter
                yield FRAGMENTS[1]
                yield FRAGMENTS[2]

            await ws.send(fragments())
            await asyncio.wait_for(seen.pop("ping_waiter"), TIMEOUT)
            seen["pong"] = PING.decode()
            echo = await asyncio.wait_for(ws.recv(), TIMEOUT)
            seen["echo"] = echo == FRAGMENTED_TEXT
            await ws.close(1000, "done")
        elif scenario == "large":
            await ws.send(LARGE_TEXT)
            echo = await asyncio.wait_for(ws.recv(), TIMEOUT)
            seen["echo"] = echo == LARGE_TEXT
            await ws.close(1001, "")  # a code without a reason
        elif scenario == "invalid-utf8":
            await ws.send(INVALID_UTF8, text=True)
            await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        elif scenario == "oversize":
            await ws.send(bytes(OVERSIZE))
            await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
        else:
            await ws.close(1008, "unknown scenario")
    except Exception as error:  # reported, so the test shows it
        seen["error"] = repr(error)
    await ws.wait_closed()
    seen.pop("ping_waiter", None)
    seen["close_code"] = ws.close_code
    report(**seen)


async def run_websockets():
    from websockets.asyncio.server import serve

    async with serve(websockets_handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        report(port=next(iter(server.sockets)).getsockname()[1])
        await asyncio.Future()


# ---------------------------------------------------------------------------------- aiohttp


def raw_frame(first_byte, payload):
    """A server frame (unmasked) with a length under 126 bytes."""
    assert len(payload) < 126
    return bytes([first_byte, len(payload)]) + payload


async def aiohttp_handler(request):
    from aiohttp import WSMsgType, web

    scenario = request.path.strip("/")
    seen = {"library": "aiohttp", "scenario": scenario, "pong": None, "echo": None}
    ws = web.WebSocketResponse(autoping=False, max_msg_size=0, compress=False)
    await ws.prepare(request)

    async def next_message():
        return await ws.receive(timeout=TIMEOUT)

    try:
        if scenario == "fragmented":
            # aiohttp only sends whole messages, so the fragments are written as raw frames
            # on its transport (nothing else writes while they go out).
            data = FRAGMENTED_TEXT.encode()
            cut1, cut2 = len(FRAGMENTS[0]), len(data) - 2  # the last cut splits the check mark
            request.transport.write(
                raw_frame(0x01, data[:cut1])
                + raw_frame(0x89, PING)
                + raw_frame(0x00, data[cut1:cut2])
                + raw_frame(0x80, data[cut2:])
            )
            message = await next_message()
            if message.type == WSMsgType.PONG:
                seen["pong"] = message.data.decode(errors="replace")
                message = await next_message()
            if message.type == WSMsgType.TEXT:
                seen["echo"] = message.data == FRAGMENTED_TEXT
            await ws.close(code=1000, message=b"done")
            seen["close_code"] = ws.close_code
        elif scenario == "large":
            await ws.send_str(LARGE_TEXT)
            message = await next_message()
            seen["echo"] = message.type == WSMsgType.TEXT and message.data == LARGE_TEXT
            await ws.close(code=1001)
            seen["close_code"] = ws.close_code
        elif scenario in ("invalid-utf8", "oversize"):
            if scenario == "invalid-utf8":
                await ws.send_frame(INVALID_UTF8, WSMsgType.TEXT)
            else:
                await ws.send_bytes(bytes(OVERSIZE))
            message = await next_message()
            seen["close_code"] = message.data if message.type == WSMsgType.CLOSE else None
        else:
            await ws.close(code=1008, message=b"unknown scenario")
    except Exception as error:
        seen["error"] = repr(error)
    await ws.close()
    report(**seen)
    return ws


async def run_aiohttp():
    from aiohttp import web

    app = web.Application()
    app.router.add_get("/{scenario}", aiohttp_handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    report(port=site._server.sockets[0].getsockname()[1])
    await asyncio.Future()


if __name__ == "__main__":
    library = sys.argv[1] if len(sys.argv) > 1 else ""
    runners = {"websockets": run_websockets, "aiohttp": run_aiohttp}
    if library not in runners:
        sys.exit("usage: ws_peer_server.py websockets|aiohttp")
    try:
        asyncio.run(runners[library]())
    except KeyboardInterrupt:
        pass
