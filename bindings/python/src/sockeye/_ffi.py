"""ctypes declarations of the parts of ``sockeye.h`` this package uses, and the loader.

Only the standard library is needed: no compiler at install time. The library is found
through ``SOCKEYE_LIBRARY`` (a path), then the copy shipped inside the package (wheels),
then the dynamic loader's search path (``libsockeye.so.0``, then ``libsockeye.so``).
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import List, Optional

# --- constants from sockeye.h ---------------------------------------------------------

OK = 0
E_INVALID_ARGUMENT = -1
E_MALFORMED = -2
E_LIMIT = -3
E_NOT_ENVELOPE = -4
E_ACK_TOO_LARGE = -5
E_BUFFER_TOO_SMALL = -6
E_INVALID_ENVELOPE_ID = -7
E_INVALID_PAYLOAD = -8
E_INVALID_HANDLE = -9
E_ALREADY_ANSWERED = -10
E_TIMEOUT = -11
E_STOPPED = -12
E_WRONG_MODE = -13
E_INVALID_TOKEN = -14
E_INVALID_URL = -15
E_INVALID_OPTION = -16
E_SYSTEM = -17
E_WRONG_THREAD = -18
E_FAILED = -19

ACK_DEFAULT = 0
ACK_ON_RECEIPT = 1
ACK_AFTER_HANDLER = 2
ACK_MANUAL = 3

VIEW_PRESENT = 0x1
VIEW_ESCAPED = 0x2

LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
STATE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
EVENT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class ClientOptions(ctypes.Structure):
    """``sockeye_client_options`` (size-first: ``struct_size`` is set by the caller)."""

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
    """``sockeye_view``: bytes inside an event, not NUL-terminated."""

    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t), ("flags", ctypes.c_uint32)]


VIEW_FIELDS = ("type", "envelope_id", "payload", "team_id", "event_id", "event_type", "payload_type",
               "retry_reason")


class EventInfo(ctypes.Structure):
    """``sockeye_event_info``: every field of an event, filled by one call."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("event", ctypes.c_void_p),
        ("kind", ctypes.c_int32),
        ("accepts_response_payload", ctypes.c_int32),
        ("retry_attempt", ctypes.c_int64),
        ("data", View),
    ] + [(name, View) for name in VIEW_FIELDS]


# `sockeye_client_next_events` fills an array of EventInfo; the package hands it a buffer
# of 64-bit words instead and reads a whole batch back with one slice (a list of ints),
# which costs far less than reading nested ctypes fields one attribute at a time. Every
# member is one word, or two 32-bit halves of one (kind and accepts_response_payload; a
# view's flags and its padding), on the 64-bit platforms the library is built for.
INFO_WORDS = ctypes.sizeof(EventInfo) // 8
assert ctypes.sizeof(EventInfo) == INFO_WORDS * 8 and ctypes.sizeof(View) == 24
W_EVENT = EventInfo.event.offset // 8
W_KIND = EventInfo.kind.offset // 8  # low half kind, high half accepts_response_payload
W_RETRY_ATTEMPT = EventInfo.retry_attempt.offset // 8
W_DATA = EventInfo.data.offset // 8  # ptr, len, flags
#: The first word (ptr; then len, flags) of each view, in VIEW_FIELDS order.
W_VIEWS = tuple(getattr(EventInfo, name).offset // 8 for name in VIEW_FIELDS)

STATS_COUNTERS = (
    "received delivered acked host_acks nacked deduplicated redelivered ack_guarded late_acks "
    "outstanding reconnects_lost reconnects_refresh reconnects_too_many open_errors "
    "transport_errors protocol_errors malformed_frames ack_latency_p50_us ack_latency_p90_us "
    "ack_latency_p99_us ack_latency_max_us timeouts peak_queued intake_pauses"
).split()


class Stats(ctypes.Structure):
    """``sockeye_stats``."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("state", ctypes.c_int32),
        ("connections_live", ctypes.c_uint32),
        ("connections_target", ctypes.c_uint32),
        ("queued", ctypes.c_uint32),
    ] + [(name, ctypes.c_uint64) for name in STATS_COUNTERS]


_handle = ctypes.c_void_p
_status = ctypes.c_int
_SIGNATURES = {
    "sockeye_version": (ctypes.c_char_p, []),
    "sockeye_version_number": (ctypes.c_uint32, []),
    "sockeye_strerror": (ctypes.c_char_p, [_status]),
    "sockeye_state_name": (ctypes.c_char_p, [ctypes.c_int32]),
    "sockeye_runtime_new": (_status, [ctypes.POINTER(_handle)]),
    "sockeye_runtime_free": (_status, [_handle]),
    "sockeye_client_new": (_status, [_handle, ctypes.POINTER(ClientOptions), ctypes.POINTER(_handle)]),
    "sockeye_client_stop": (_status, [_handle, ctypes.c_int]),
    "sockeye_client_free": (_status, [_handle]),
    "sockeye_client_next_events": (_status, [_handle, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_size_t)]),
    "sockeye_client_event_fd": (_status, [_handle, ctypes.POINTER(ctypes.c_int)]),
    "sockeye_client_stats": (_status, [_handle, ctypes.POINTER(Stats)]),
    "sockeye_event_retain": (_status, [_handle]),
    "sockeye_event_release": (_status, [_handle]),
    "sockeye_ack": (_status, [_handle, ctypes.c_char_p, ctypes.c_size_t]),
    "sockeye_nack": (_status, [_handle]),
}

# Functions that never wait are also bound without releasing the GIL (ctypes.PyDLL): a
# CDLL call drops and re-takes the GIL, and under load every drop hands the GIL to another
# thread, so each call per event became a thread switch. Safe because the library
# never calls back into the host (which needs the GIL) while holding a lock these functions
# take: its callbacks may themselves call every one of them. Functions that wait (a
# blocking next_event, client_free and runtime_free, which wait for the service thread,
# whose log callback needs the GIL) are only bound through the CDLL.
_NO_WAIT = ("sockeye_version", "sockeye_strerror", "sockeye_state_name", "sockeye_client_stop",
            "sockeye_client_next_events", "sockeye_client_event_fd", "sockeye_client_stats",
            "sockeye_event_retain", "sockeye_event_release", "sockeye_ack", "sockeye_nack")

_lib: Optional[ctypes.CDLL] = None
_fast: Optional[ctypes.PyDLL] = None
_loaded_from: Optional[str] = None
_lock = threading.Lock()

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_BUNDLED = os.path.join(_PACKAGE, "_lib", "libsockeye.so")
#: Where a wheel keeps the libraries auditwheel copied in (named after the distribution).
WHEEL_LIBS = os.path.join(os.path.dirname(_PACKAGE), "sockeye_slack.libs")
# The OpenSSL a wheel carries is Debian's: its default CA store is this folder (cert.pem,
# certs/), which Debian's `openssl` package links to the system's store.
_DEBIAN_OPENSSL_DIR = "/usr/lib/ssl"
# The CA bundle's usual place per distribution, after Python's own default CA file.
_CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL and its rebuilds
    "/etc/ssl/ca-bundle.pem",  # openSUSE, SLES
    "/etc/ssl/cert.pem",
)


def library_candidates() -> list:
    """Where the library is looked for, in order."""
    candidates = []
    explicit = os.environ.get("SOCKEYE_LIBRARY")
    if explicit:
        candidates.append(explicit)
    bundled = _BUNDLED
    if os.path.exists(bundled):
        candidates.append(bundled)
    candidates += ["libsockeye.so.0", "libsockeye.so"]
    return candidates


def lib() -> ctypes.CDLL:
    """The loaded library with every function's types declared (loaded once per process).

    Raises ``OSError`` naming every place tried when no candidate loads.
    """
    global _lib, _loaded_from
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        errors = []
        loaded = None
        for candidate in library_candidates():
            try:
                loaded = ctypes.CDLL(candidate)
                _loaded_from = candidate
                break
            except OSError as error:
                errors.append(f"{candidate}: {error}")
                # An explicit SOCKEYE_LIBRARY that does not load is an error, not a hint.
                if candidate == os.environ.get("SOCKEYE_LIBRARY"):
                    break
        if loaded is None:
            raise OSError("libsockeye could not be loaded (set SOCKEYE_LIBRARY to its path): " + "; ".join(errors))
        for name, (restype, argtypes) in _SIGNATURES.items():
            try:
                function = getattr(loaded, name)
            except AttributeError:
                raise OSError(f"{_loaded_from} has no {name}: it is older than this package "
                              f"(use the library of the same version)") from None
            function.restype = restype
            function.argtypes = argtypes
        global _fast
        fast = ctypes.PyDLL(loaded._name, handle=loaded._handle)
        for name in _NO_WAIT:
            restype, argtypes = _SIGNATURES[name]
            function = getattr(fast, name)
            function.restype = restype
            function.argtypes = argtypes
        _fast = fast
        _lib = loaded
        return loaded


def bundled_openssl() -> bool:
    """True when the loaded library is a wheel's copy, linked with the OpenSSL the wheel
    carries (``sockeye_slack.libs/libcrypto-*``) rather than the system's."""
    lib()
    return _loaded_from == _BUNDLED and bool(glob.glob(os.path.join(WHEEL_LIBS, "libcrypto-*.so*")))


def _ca_bundle_candidates() -> List[Optional[str]]:
    import ssl

    paths = ssl.get_default_verify_paths()
    return [paths.cafile, paths.openssl_cafile, *_CA_BUNDLES]


def host_ca_file() -> Optional[str]:
    """The CA file a client that names none is given, or None to leave it to the library.

    A wheel carries Debian's OpenSSL, which trusts what ``/usr/lib/ssl`` holds: the system's
    store on Debian and Ubuntu. On a system without that folder (Fedora, RHEL, SUSE, Arch …)
    it would trust nothing and every ``https://``/``wss://`` connection would fail its
    certificate check, so the host's own bundle is named instead: Python's default CA file,
    else the first bundle found at a distribution's usual place. ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` still decide when set, and a library not from a wheel (``SOCKEYE_LIBRARY``,
    ``make install``) uses its own OpenSSL's store.
    """
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or not bundled_openssl():
        return None
    if os.path.exists(os.path.join(_DEBIAN_OPENSSL_DIR, "cert.pem")) or \
            os.path.isdir(os.path.join(_DEBIAN_OPENSSL_DIR, "certs")):
        return None
    for candidate in _ca_bundle_candidates():
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def fast() -> ctypes.PyDLL:
    """The library's functions that never wait, called without releasing the GIL. Only
    ``_NO_WAIT`` functions are declared on it; ``sockeye_client_next_events`` only with a
    timeout of 0."""
    if _fast is None:
        lib()
    assert _fast is not None
    return _fast
