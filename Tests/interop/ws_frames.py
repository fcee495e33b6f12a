"""Raw WebSocket frames as a server writes them (RFC 6455 §5.2), including the ones no
library will write: reserved bits, reserved opcodes, masked server frames, oversize or
fragmented control frames, lengths with the top bit set."""
import struct


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """One frame. `rsv` is the 3-bit RSV1..3 field; `mask` four bytes to mask it with (which
    a server must never do); `length` a declared payload length other than the real one."""
    if isinstance(payload, str):
        payload = payload.encode()
    first = (0x80 if fin else 0) | (rsv & 7) << 4 | opcode
    count = len(payload) if length is None else length
    mask_bit = 0x80 if mask else 0
    if count <= 125:
        header = bytes([first, mask_bit | count])
    elif count <= 0xFFFF:
        header = bytes([first, mask_bit | 126]) + struct.pack(">H", count)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack(">Q", count)
    if mask:
        header += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + payload


def text(payload, fin=True, rsv=0):
    return frame(1, payload, fin=fin, rsv=rsv)


def binary(payload, fin=True, rsv=0):
    return frame(2, payload, fin=fin, rsv=rsv)


def continuation(payload, fin=True):
    return frame(0, payload, fin=fin)


def ping(payload=b"", fin=True, rsv=0):
    return frame(9, payload, fin=fin, rsv=rsv)


def pong(payload=b"", fin=True):
    return frame(10, payload, fin=fin)


def close(code=None, reason=b"", rsv=0):
    """A close frame; `code` None writes an empty one."""
    if isinstance(reason, str):
        reason = reason.encode()
    payload = b"" if code is None else struct.pack(">H", code) + reason
    return frame(8, payload, rsv=rsv)
