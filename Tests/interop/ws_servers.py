"""The servers that play the conformance cases (ws_cases.py) against the echo client: a
`websockets` server and an aiohttp server, both on 127.0.0.1 with free ports, on one asyncio
loop in a background thread. Each connection's path names its case; what the server receives
back (echoes, pongs, the client's close code) is kept in a Record per case."""
import asyncio
import threading
import time

from aiohttp import WSMsgType, web
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

# Every wait of a server is bounded: the client has 10 s per read, the test a minute per case.
WAIT = 20


class Record:
    """What the server received during one case."""

    def __init__(self):
        self.replies = []
        # The client's close code: a number, "empty" for a close frame without one, "none"
        # when no close frame came.
        self.client_close = "none"
        self.error = None
        self.done = threading.Event()


def close_code(code):
    if code in (None, 0, 1005):
        return "empty"
    return code


async def wait_until(condition, seconds=WAIT):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def write_raw(transport, data, chop):
    """Writes `data` on the transport, in pieces of `chop` bytes when `chop` is positive (each
    piece handed to the socket on its own turn of the loop)."""
    if chop <= 0:
        transport.write(data)
        return
    for start in range(0, len(data), chop):
        transport.write(data[start:start + chop])
        await asyncio.sleep(0)


class Servers:
    def __init__(self, cases):
        self.cases = {case.key: case for case in cases}
        self.records = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ws-conformance-servers", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self):
        self.websockets_server = await serve(self._websockets_case, "127.0.0.1", 0, max_size=None, ping_interval=None,
                                             compression=None, close_timeout=5)
        self.websockets_port = self.websockets_server.sockets[0].getsockname()[1]
        app = web.Application()
        app.router.add_get("/case/{key}", self._aiohttp_case)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.aiohttp_port = self.runner.addresses[0][1]

    def url(self, case):
        port = self.websockets_port if case.server == "websockets" else self.aiohttp_port
        return f"ws://127.0.0.1:{port}/case/{case.key}"

    def record(self, case, timeout=WAIT + 10):
        """The case's record once its server is done with it (None if it never started)."""
        deadline = time.monotonic() + timeout
        while case.key not in self.records and time.monotonic() < deadline:
            time.sleep(0.01)
        record = self.records.get(case.key)
        if record is not None:
            record.done.wait(max(0.0, deadline - time.monotonic()))
        return record

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _stop(self):
        self.websockets_server.close()
        await self.websockets_server.wait_closed()
        await self.runner.cleanup()

    # websockets: its own API for every step.
    async def _websockets_case(self, ws):
        key = ws.request.path.rsplit("/", 1)[-1]
        case = self.cases.get(key)
        record = self.records[key] = Record()
        if case is None:
            await ws.close(1008, "unknown case")
            record.done.set()
            return

        async def collect():
            try:
                async for message in ws:
                    record.replies.append(("text", message.encode()) if isinstance(message, str) else ("binary", bytes(message)))
            except ConnectionClosed:
                pass

        async def await_pong(waiter, payload):
            await asyncio.wait_for(waiter, WAIT)
            record.replies.append(("pong", payload))

        collector = asyncio.create_task(collect())
        pongs = []
        try:
            for step in case.script:
                if step[0] == "send":
                    await ws.send(step[2])
                elif step[0] == "fragments":
                    await ws.send(step[1])
                elif step[0] == "ping":
                    pongs.append(asyncio.create_task(await_pong(await ws.ping(step[1]), step[1])))
                elif step[0] == "close":
                    await ws.close(step[1], step[2])
                elif step[0] == "sleep":
                    await asyncio.sleep(step[1])
                else:
                    raise ValueError(f"websockets cannot play {step[0]}")
            if case.end[0] == "echo":
                await wait_until(lambda: len(record.replies) >= len(case.replies) or collector.done())
                await ws.close(1000)
            await asyncio.wait_for(collector, WAIT)
            if pongs:
                await asyncio.wait(pongs, timeout=WAIT)
        except (ConnectionClosed, asyncio.TimeoutError) as error:
            record.error = type(error).__name__
        finally:
            for task in pongs:
                task.cancel()
            received = ws.protocol.close_rcvd
            record.client_close = close_code(received.code) if received is not None else "none"
            record.done.set()

    # aiohttp: its API for library steps; raw steps write on its transport. It reads every
    # reply itself (autoping off, so pongs are seen).
    async def _aiohttp_case(self, request):
        key = request.match_info["key"]
        case = self.cases.get(key)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=0, compress=False, timeout=10)
        await ws.prepare(request)
        record = self.records[key] = Record()
        if case is None:
            await ws.close(code=1008)
            record.done.set()
            return ws
        transport = request.transport

        async def collect():
            while True:
                message = await ws.receive()
                if message.type == WSMsgType.TEXT:
                    record.replies.append(("text", message.data.encode()))
                elif message.type == WSMsgType.BINARY:
                    record.replies.append(("binary", bytes(message.data)))
                elif message.type == WSMsgType.PONG:
                    record.replies.append(("pong", bytes(message.data)))
                elif message.type == WSMsgType.CLOSE:
                    record.client_close = close_code(message.data)
                    return
                elif message.type != WSMsgType.PING:
                    return

        collector = asyncio.create_task(collect())
        try:
            for step in case.script:
                if step[0] == "send":
                    await (ws.send_str(step[2]) if step[1] == "text" else ws.send_bytes(step[2]))
                elif step[0] == "ping":
                    await ws.ping(step[1])
                elif step[0] == "pong":
                    await ws.pong(step[1])
                elif step[0] == "close":
                    await ws.close(code=step[1], message=step[2].encode())
                    record.client_close = close_code(ws.close_code)
                elif step[0] == "raw":
                    await write_raw(transport, step[1], step[2])
                elif step[0] == "sleep":
                    await asyncio.sleep(step[1])
                else:
                    raise ValueError(f"aiohttp cannot play {step[0]}")
            if case.end[0] == "echo":
                await wait_until(lambda: len(record.replies) >= len(case.replies) or collector.done())
                if collector.done():
                    pass
                elif case.server == "aiohttp":
                    await ws.close(code=1000)
                    record.client_close = close_code(ws.close_code)
                else:
                    transport.write(b"\x88\x02\x03\xe8")  # close 1000
            await asyncio.wait_for(collector, WAIT)
        except (ConnectionError, asyncio.TimeoutError) as error:
            record.error = type(error).__name__
        finally:
            record.done.set()
        return ws
