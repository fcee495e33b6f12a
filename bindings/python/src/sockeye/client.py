"""The blocking API: :class:`Client`, :class:`Event`, :class:`Stats`, :class:`Runtime`.

A :class:`Client` is one Slack app's Socket Mode connection pool, run by libsockeye's
service thread (no Python thread does network work). Events wait in the library's pull
queue until Python takes them: iterate the client, call :meth:`Client.next_event` from
any number of threads, or watch :meth:`Client.fileno` in an event loop (see
:mod:`sockeye.aio`).
"""
from __future__ import annotations

import atexit
import collections
import ctypes
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, fields
from typing import Any, Deque, Iterator, List, Mapping, Optional, Union

from . import _ffi, _take
from ._log import LogSink, library_level
from .errors import ClientFailedError, StoppedError, check, error_for

__all__ = ["Client", "Event", "Stats", "Runtime", "ACK_MODES"]

#: ``ack_mode`` names -> ``sockeye_ack_mode``
ACK_MODES = {"manual": _ffi.ACK_MANUAL, "after_handler": _ffi.ACK_AFTER_HANDLER, "on_receipt": _ffi.ACK_ON_RECEIPT}
_KINDS = {1: "hello", 2: "disconnect", 3: "events_api", 4: "slash_commands", 5: "interactive", 6: "unknown"}
# The longest a blocking call waits inside the library at once, so Ctrl-C (handled
# between Python bytecodes) is seen within this many milliseconds.
_SLICE_MS = 250

Payload = Union[Mapping[str, Any], str, bytes, None]
# Guards each Event's handle from being answered or released twice by racing threads. One
# for every event: it is held for one library call at most, and an Event needs no lock
# of its own.
_ANSWER_LOCK = threading.Lock()


# What the iterator may hold taken and not yet yielded: about this many seconds of the
# loop body's work.
_ITERATOR_HOLD_S = 0.010


def _iterator_batch(handled: int, seconds: float) -> int:
    """How many events the iterator takes next, after the loop handled ``handled`` in
    ``seconds`` (the body's time, including the caller's own waits)."""
    if seconds <= 0:
        return _take.MAX_BATCH
    return max(1, min(_take.MAX_BATCH, int(handled * _ITERATOR_HOLD_S / seconds)))


class Runtime:
    """A libsockeye runtime: one native service thread that runs any number of clients.

    Most programs never make one: clients share :meth:`Runtime.default`, freed at exit.
    """

    _default: Optional["Runtime"] = None
    _default_lock = threading.Lock()

    def __init__(self) -> None:
        self._lib = _ffi.lib()
        self._handle = ctypes.c_void_p()
        check(self._lib.sockeye_runtime_new(ctypes.byref(self._handle)), "sockeye_runtime_new")

    @classmethod
    def default(cls) -> "Runtime":
        """The process-wide runtime, started on first use and freed at interpreter exit."""
        with cls._default_lock:
            if cls._default is None or cls._default._handle is None:
                cls._default = Runtime()
                atexit.register(cls._default.close)
            return cls._default

    @property
    def handle(self) -> ctypes.c_void_p:
        """The ``sockeye_runtime *`` (raises :class:`StoppedError` once closed)."""
        if self._handle is None:
            raise StoppedError("the runtime is closed")
        return self._handle

    def close(self) -> None:
        """Stops every client of the runtime at once and ends its thread (waits for it).

        Idempotent. Clients of a closed runtime report :class:`StoppedError`.
        """
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.sockeye_runtime_free(handle)


@dataclass(frozen=True)
class Stats:
    """A client's counters since it was made (``sockeye_stats``; see ``sockeye.h``)."""

    state: str
    connections_live: int
    connections_target: int
    queued: int
    received: int
    delivered: int
    acked: int
    host_acks: int
    nacked: int
    deduplicated: int
    redelivered: int
    ack_guarded: int
    late_acks: int
    outstanding: int
    reconnects_lost: int
    reconnects_refresh: int
    reconnects_too_many: int
    open_errors: int
    transport_errors: int
    protocol_errors: int
    malformed_frames: int
    ack_latency_p50_us: int
    ack_latency_p90_us: int
    ack_latency_p99_us: int
    ack_latency_max_us: int
    timeouts: int
    peak_queued: int
    intake_pauses: int

    def as_dict(self) -> dict:
        """The counters as a plain ``dict`` (for logging or JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Event:
    """One envelope: an Events API event, a slash command or an interactive payload.

    Every field's bytes are copied out of the library when the event is taken, and each
    field is decoded from that copy when read, so fields stay readable after the event is
    answered or released. The event holds one library reference until it is answered
    (:meth:`ack` / :meth:`nack`) or :meth:`release`\\ d; an event that is garbage-collected
    unanswered is released then. What happens to an unanswered event depends on the
    client's ``ack_mode`` (see :class:`Client`).
    """

    __slots__ = ("_taken", "_handle", "_payload", "_answer", "__weakref__")

    def __init__(self, taken: _take.Taken) -> None:
        self._taken = taken
        self._handle: Optional[int] = taken[0][_take.W_EVENT]
        self._payload: Any = None
        self._answer: Optional[str] = None

    @property
    def kind(self) -> str:
        """``"events_api"``, ``"slash_commands"``, ``"interactive"`` or ``"unknown"``."""
        return _KINDS.get(_take.kind(self._taken), "unknown")

    @property
    def type(self) -> str:
        """The envelope's ``type`` as sent."""
        return _take.text(self._taken, _take.W_TYPE) or ""

    @property
    def envelope_id(self) -> str:
        """What the ack names."""
        return _take.text(self._taken, _take.W_ENVELOPE_ID) or ""

    @property
    def payload_bytes(self) -> bytes:
        """The raw JSON text of ``payload``."""
        return _take.raw(self._taken, _take.W_PAYLOAD) or b"{}"

    @property
    def event_id(self) -> Optional[str]:
        """``payload.event_id`` (Events API), else None."""
        return _take.text(self._taken, _take.W_EVENT_ID)

    @property
    def team_id(self) -> Optional[str]:
        """``payload.team_id``, else ``payload.team.id``, else None."""
        return _take.text(self._taken, _take.W_TEAM_ID)

    @property
    def event_type(self) -> Optional[str]:
        """``payload.event.type`` (``message``, ``app_mention`` …), else None."""
        return _take.text(self._taken, _take.W_EVENT_TYPE)

    @property
    def payload_type(self) -> Optional[str]:
        """``payload.type`` (``event_callback``, ``block_actions`` …), else None."""
        return _take.text(self._taken, _take.W_PAYLOAD_TYPE)

    @property
    def retry_attempt(self) -> int:
        """0 for a first delivery, else Slack's retry number."""
        return _take.retry_attempt(self._taken)

    @property
    def retry_reason(self) -> Optional[str]:
        """``retry_reason`` as sent (``""`` on a first delivery, ``"timeout"`` …), else None."""
        return _take.text(self._taken, _take.W_RETRY_REASON)

    @property
    def accepts_response_payload(self) -> bool:
        """True when :meth:`ack` may carry a response payload."""
        return _take.accepts_response_payload(self._taken)

    @property
    def payload(self) -> Any:
        """``payload`` parsed with :func:`json.loads` (once, on first use)."""
        if self._payload is None:
            self._payload = json.loads(self.payload_bytes)
        return self._payload

    @property
    def answered(self) -> Optional[str]:
        """``"ack"`` or ``"nack"`` once answered through this object, else None."""
        return self._answer

    def ack(self, payload: Payload = None) -> None:
        """Acknowledges the event, optionally with a response payload.

        Args:
            payload: None for a plain ack; else one JSON object as a ``dict`` (serialised
                here), ``str`` or ``bytes`` — e.g. ``{"text": "Done"}`` for a slash
                command or ``{"response_action": "clear"}`` for a view submission. Allowed
                when :attr:`accepts_response_payload` is true.

        Returns at once: the library copies the ack and its service thread writes it.
        Raises :class:`~sockeye.errors.InvalidPayloadError` (the event stays unanswered
        and can be acked again), :class:`~sockeye.errors.AckTooLargeError`,
        :class:`~sockeye.errors.AlreadyAnsweredError`, :class:`~sockeye.errors.StoppedError`
        (the client was closed; nothing is sent). Thread-safe.
        """
        if payload is None:
            data = None
        elif isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
        else:
            data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        with _ANSWER_LOCK:
            handle = self._handle
            if handle is None:
                raise error_for(_ffi.E_ALREADY_ANSWERED if self._answer else _ffi.E_INVALID_HANDLE, "ack")
            status = _ffi.fast().sockeye_ack(handle, data, len(data) if data else 0)
            if status in (_ffi.E_INVALID_PAYLOAD, _ffi.E_ACK_TOO_LARGE):
                raise error_for(status, "ack")
            self._answer = "ack"
            self._handle = None
        _ffi.fast().sockeye_event_release(handle)
        check(status, "ack")

    def nack(self) -> None:
        """Declines the event: nothing is acked, and Slack's redelivery (``retry_attempt``
        + 1) is delivered again later. Slack retries Events API events; slash commands and
        interactions are not retried (the user sees an error). Thread-safe."""
        with _ANSWER_LOCK:
            handle = self._handle
            if handle is None:
                raise error_for(_ffi.E_ALREADY_ANSWERED if self._answer else _ffi.E_INVALID_HANDLE, "nack")
            status = _ffi.fast().sockeye_nack(handle)
            self._answer = "nack"
            self._handle = None
        _ffi.fast().sockeye_event_release(handle)
        check(status, "nack")

    def release(self) -> None:
        """Gives the library reference back without answering (idempotent).

        ``after_handler`` mode (the default): the release itself acks the event empty.
        ``manual`` mode: the ack guard acks it empty shortly before Slack's 3 s deadline.
        """
        with _ANSWER_LOCK:
            handle, self._handle = self._handle, None
        if handle is not None:
            _ffi.fast().sockeye_event_release(handle)

    def _give_back(self) -> None:
        """Hands back an event the host never saw: nacked (Slack redelivers it), not left to
        be acked by its release."""
        with _ANSWER_LOCK:
            handle, self._handle = self._handle, None
        if handle is not None:
            _ffi.fast().sockeye_nack(handle)
            _ffi.fast().sockeye_event_release(handle)

    def __enter__(self) -> "Event":
        return self

    def __exit__(self, *_: Any) -> None:
        self.release()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and _ffi._fast is not None:
            _ffi._fast.sockeye_event_release(handle)

    def __repr__(self) -> str:
        detail = self.event_type or self.payload_type or ""
        return f"<sockeye.Event {self.kind} {detail} envelope_id={self.envelope_id!r} retry={self.retry_attempt}>"


class Client:
    """One Slack app's Socket Mode client: a pool of connections that acks, de-duplicates,
    refreshes and reconnects on its own. Connecting starts in the constructor.

    Use it as a context manager (``with Client(token) as client:``) or call :meth:`close`.

    Args:
        app_token: the app-level token, ``xapp-…``.
        api_url: the Web API base URL; default ``$SOCKEYE_API_URL``, else
            ``https://slack.com/api/``.
        pool_size: connections kept open (1..10); default 2.
        max_pool_size: grow the pool under load up to this many; 0: fixed.
        ack_mode: ``"after_handler"`` (default, as in the Swift and C APIs: an event you
            did not :meth:`Event.ack` or :meth:`Event.nack` is acked empty when it is
            released: the end of its ``with`` block, :meth:`Event.release`, or when its
            last reference goes), ``"manual"`` (you ack or nack; an event left unanswered,
            released or not, is acked empty by the ack guard shortly before Slack's 3 s
            deadline; what the Bolt and slack_sdk handlers use, whose listeners answer) or
            ``"on_receipt"`` (acked before you see it; fastest, no nack, no payloads). In a
            ``for`` loop the loop variable holds the last event until the next one comes:
            answer it, or use ``with event:``, for an ack at the end of the body (else the
            next event's arrival or the ack guard acks it).
        ack_guard_ms: the guard's delay after receipt; 0: 2 500 ms; negative: off.
        dedup_window_s: how long delivered event ids are remembered to drop Slack's
            redeliveries; 0: 900 s.
        proxy_url: ``http://[user:pass@]host:port``; None: ``HTTPS_PROXY`` & co.
        ca_file: PEM file to trust instead of the system store (default ``$SSL_CERT_FILE``;
            a wheel's library on a system without Debian's ``/usr/lib/ssl`` is given the
            host's CA bundle, see :func:`sockeye._ffi.host_ca_file`).
        max_message_size: largest message accepted; 0: 1 MiB.
        logger: where the library's log lines go; default ``logging.getLogger("sockeye")``.
            Its effective level decides how verbose the library is.
        runtime: the :class:`Runtime` to run on; default :meth:`Runtime.default`.

    Raises :class:`~sockeye.errors.InvalidTokenError`,
    :class:`~sockeye.errors.InvalidURLError`, :class:`~sockeye.errors.InvalidOptionError`
    for what can be checked without the network; network failures are retried with backoff
    and logged, and a fatal one (``invalid_auth``, ``link_disabled``) ends iteration with
    :class:`~sockeye.errors.ClientFailedError`.
    """

    def __init__(
        self,
        app_token: str,
        *,
        api_url: Optional[str] = None,
        pool_size: int = 2,
        max_pool_size: int = 0,
        ack_mode: str = "after_handler",
        ack_guard_ms: int = 0,
        dedup_window_s: int = 0,
        proxy_url: Optional[str] = None,
        ca_file: Optional[str] = None,
        max_message_size: int = 0,
        logger: Optional[logging.Logger] = None,
        runtime: Optional[Runtime] = None,
    ) -> None:
        self._lib = _ffi.lib()
        self._handle: Optional[ctypes.c_void_p] = None
        if ack_mode not in ACK_MODES:
            raise ValueError(f"ack_mode must be one of {', '.join(ACK_MODES)}, not {ack_mode!r}")
        self.logger = logger or logging.getLogger("sockeye")
        self.ack_mode = ack_mode
        self._runtime = runtime or Runtime.default()
        self._log = LogSink(self.logger)
        api_url = api_url or os.environ.get("SOCKEYE_API_URL") or None
        options = _ffi.ClientOptions()
        options.struct_size = ctypes.sizeof(_ffi.ClientOptions)
        options.app_token = (app_token or "").encode("utf-8")
        options.api_base_url = api_url.encode("utf-8") if api_url else None
        options.pool_size = pool_size
        options.max_pool_size = max_pool_size
        options.ack_mode = ACK_MODES[ack_mode]
        options.ack_guard_ms = ack_guard_ms
        options.dedup_window_s = dedup_window_s
        options.proxy_url = proxy_url.encode("utf-8") if proxy_url else None
        ca_file = ca_file or _ffi.host_ca_file()
        options.ca_file = ca_file.encode("utf-8") if ca_file else None
        options.max_message_size = max_message_size
        options.log = self._log.callback
        options.log_level = library_level(self.logger)
        handle = ctypes.c_void_p()
        status = self._lib.sockeye_client_new(self._runtime.handle, ctypes.byref(options), ctypes.byref(handle))
        if status != _ffi.OK:
            self._log.close()
            raise error_for(status, "sockeye_client_new")
        self._handle = handle
        self._stopping = False

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def stop(self, drain: bool = True) -> None:
        """Stops taking envelopes. With ``drain``: envelopes arriving from now on are left
        to Slack to redeliver elsewhere, events already taken may still be acked for up to
        3 s, then the connections close; events still queued can still be taken, then
        iteration ends. Without: the connections close at once. Returns at once; harmless
        twice."""
        handle = self._handle
        self._stopping = True
        if handle is not None:
            self._lib.sockeye_client_stop(handle, 1 if drain else 0)

    def close(self, drain: bool = True, timeout: float = 5.0) -> None:
        """Stops (draining by default), waits up to ``timeout`` seconds for the connections
        to close, then frees the client. Events still queued are declined (Slack redelivers
        them); events you hold stay readable, and acking them raises
        :class:`~sockeye.errors.StoppedError`. Idempotent."""
        if self._handle is None:
            return
        self.stop(drain)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.stats.state in ("stopped", "failed"):
                    break
            except Exception:
                break
            time.sleep(0.02)
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                self._lib.sockeye_client_free(handle)
        finally:
            self._log.close()

    def __del__(self) -> None:
        # A client dropped without close(): free it, then its log sink, which the log
        # thread's table would otherwise keep (with its logger) for the life of the process.
        handle = getattr(self, "_handle", None)
        if handle is not None and _ffi._lib is not None:
            self._handle = None
            _ffi._lib.sockeye_client_free(handle)
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._handle is None

    def _live(self) -> ctypes.c_void_p:
        handle = self._handle
        if handle is None:
            raise StoppedError("the client is closed", _ffi.E_STOPPED)
        return handle

    # --- events ------------------------------------------------------------------------

    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """Takes the next event, waiting up to ``timeout`` seconds (None: until one comes).

        Returns None when the timeout passed. Raises :class:`~sockeye.errors.StoppedError`
        when the client is stopped and its queue is empty, and
        :class:`~sockeye.errors.ClientFailedError` when it gave up for good. Any number of
        threads may call it at once (each event goes to one of them); the GIL is released
        while waiting.
        """
        events = self.next_events(1, timeout)
        return events[0] if events else None

    def next_event_nowait(self) -> Optional[Event]:
        """The next queued event, or None when none is queued (never waits).

        Raises like :meth:`next_event`."""
        events = self.next_events(1, 0)
        return events[0] if events else None

    def next_events(self, max_count: int = _take.MAX_BATCH, timeout: Optional[float] = None) -> List[Event]:
        """Takes up to ``max_count`` events (1..64) in one call: waits up to ``timeout``
        seconds (None: until one comes; 0: not at all) for the first, then takes what else
        is queued without waiting. Returns them in order; an empty list when the timeout
        passed.

        Every event returned counts as taken: Slack's 3 s run from receipt, and the ack guard
        (``manual`` mode) answers what is still unanswered shortly before them, so take no
        more at once than you will answer in time. Raises like :meth:`next_event`.
        """
        if not 1 <= max_count <= _take.MAX_BATCH:
            raise ValueError(f"max_count must be 1..{_take.MAX_BATCH}, not {max_count}")
        if timeout == 0:
            status, taken = _take.take(_ffi.fast().sockeye_client_next_events, self._live(), 0, max_count)
        else:
            deadline = None if timeout is None else time.monotonic() + timeout
            waiting = self._lib.sockeye_client_next_events
            while True:
                if deadline is None:
                    wait = _SLICE_MS
                else:
                    wait = max(0, min(_SLICE_MS, int((deadline - time.monotonic()) * 1000)))
                status, taken = _take.take(waiting, self._live(), wait, max_count)
                if status != _ffi.E_TIMEOUT or (deadline is not None and time.monotonic() >= deadline):
                    break
        if status == _ffi.OK:
            return [Event(fields) for fields in taken]
        if status == _ffi.E_TIMEOUT:
            return []
        if status == _ffi.E_FAILED:
            reason = self._log.last_error
            raise ClientFailedError(f"the client gave up{': ' + reason if reason else ''}", status)
        if status == _ffi.E_INVALID_HANDLE and self._handle is None:
            raise StoppedError("the client is closed", _ffi.E_STOPPED)
        raise error_for(status, "next_events")

    def __iter__(self) -> Iterator[Event]:
        """Yields events until the client is stopped (or closed) and its queue is empty.

        Takes them in batches sized to the loop's own pace: as many as the body handled
        in the last 10 ms (1 to 64), so an event waits at most about that long inside the
        iterator after it was taken. Events taken and not yet yielded when the loop ends
        (``break``, an exception) are nacked, never acked unseen. Raises
        :class:`~sockeye.errors.ClientFailedError` when the client gave up for good.
        """
        pending: Deque[Event] = collections.deque()
        batch = 1
        try:
            while True:
                try:
                    pending.extend(self.next_events(batch))
                except StoppedError:
                    return
                size = len(pending)
                started = time.monotonic()
                while pending:
                    event = pending.popleft()
                    yield event
                    event = None  # the caller's reference decides when it is released
                batch = _iterator_batch(size, time.monotonic() - started)
        finally:
            while pending:
                pending.popleft()._give_back()

    def fileno(self) -> int:
        """The pull queue's eventfd: readable while an event is queued, and once the client
        stopped or failed. Put it in a poll loop, never read it; then take events with
        :meth:`next_event_nowait` until it returns None."""
        fd = ctypes.c_int()
        check(self._lib.sockeye_client_event_fd(self._live(), ctypes.byref(fd)), "event_fd")
        return fd.value

    # --- state -------------------------------------------------------------------------

    @property
    def stats(self) -> Stats:
        """The client's latest counters (see :class:`Stats`)."""
        raw = _ffi.Stats()
        raw.struct_size = ctypes.sizeof(_ffi.Stats)
        check(_ffi.fast().sockeye_client_stats(self._live(), ctypes.byref(raw)), "stats")
        values = {name: getattr(raw, name) for name in _ffi.STATS_COUNTERS}
        return Stats(state=self._lib.sockeye_state_name(raw.state).decode(), connections_live=raw.connections_live,
                     connections_target=raw.connections_target, queued=raw.queued, **values)

    @property
    def state(self) -> str:
        """``"connecting"``, ``"running"``, ``"stopping"``, ``"stopped"`` or ``"failed"``."""
        return self.stats.state

    def wait_until_running(self, timeout: float = 30.0, connections: int = 1) -> bool:
        """Waits until at least ``connections`` connections are live; False on timeout or
        when the client failed or stopped first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats
            if stats.connections_live >= connections:
                return True
            if stats.state in ("failed", "stopped"):
                return False
            time.sleep(0.02)
        return False
