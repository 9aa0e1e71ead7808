"""SPSE test lab, time: a minimal SNTP server on the lab bridge, so hosts' chrony synchronises.

Lab hosts have no route to the internet; their chrony (``-x``: it never
steers the shared kernel's clock) is pointed at the machine's bridge
address (``server 198.18.0.1 iburst`` in base.sh). This answers NTP client
requests with the machine's clock as a stratum-1 source, which is what an
LPSE's own time server is to its SPSE servers. ``labctl`` starts it with
the lab (hidden verb ``_timeserver``) and kills it with ``down``.
"""

from __future__ import annotations

import socket
import struct
import time

NTP_PORT = 123
NTP_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01
PACKET = struct.Struct("!BBbbII4sQQQQ")


def _timestamp(seconds: float) -> int:
    return (int(seconds) + NTP_EPOCH) << 32 | int((seconds % 1) * (1 << 32))


def reply(request: bytes, received: float) -> bytes | None:
    """The server's answer to one client packet (None for anything but a client request)."""
    if len(request) < PACKET.size or request[0] & 0x7 != 3:  # mode 3: client
        return None
    version = (request[0] >> 3) & 0x7
    poll, transmit = struct.unpack_from("!b", request, 2)[0], request[40:48]
    return PACKET.pack(version << 3 | 4, 1, poll, -20, 0, 16, b"LOCL",
                       _timestamp(received - 1), int.from_bytes(transmit, "big"),
                       _timestamp(received), _timestamp(time.time()))


def serve(address: str) -> None:
    """Answer NTP requests on address:123 until killed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, NTP_PORT))
    while True:
        data, peer = sock.recvfrom(512)
        answer = reply(data, time.time())
        if answer:
            sock.sendto(answer, peer)
