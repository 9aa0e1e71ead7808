# -*- coding: utf-8 -*-
"""The capture result's signature: one definition, used by the module and by the controller.

The module signs the exact JSON string it returns (``spse_baseline_json``), bound to the
inventory host name it was captured as, the capture time and a random nonce, so an event
export edited by one byte, or a result replayed under another host's name, no longer
verifies. The controller (spse_change/capture/signature.py) loads this same file to verify.

Signed bytes (UTF-8): the fields joined by one newline byte and nothing else; the payload is
last, so it may hold anything; the host name, time and nonce cannot hold a newline (checked)::

    SCHEME, HOST, SIGNED_AT, NONCE, PAYLOAD  joined by b"\\n"

``hmac = HMAC-SHA256(HMAC-SHA256(key, "spse-change result signature"), signed bytes)``: the
signing key is derived from the installation's key, so a signature is never an HMAC that a
secret's marker could also be. Runs on Python 2.7 and 3.6+.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import hmac
import os
import re

SCHEME = "spse-change/result/1"
_KEY_LABEL = b"spse-change result signature"
TIME_RE = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
NONCE_RE = re.compile(r"\A[0-9a-f]{32}\Z")
HOST_RE = re.compile(r"\A[^\r\n]+\Z")


def _utf8(text):
    # type: (object) -> bytes
    return text if isinstance(text, bytes) else u"{0}".format(text).encode("utf-8")


def new_nonce():
    # type: () -> str
    """32 hex digits from the OS's random source."""
    return binascii.hexlify(os.urandom(16)).decode("ascii")


def digest(key, host, signed_at, nonce, payload):
    # type: (object, str, str, str, str) -> str
    """The 64-hex HMAC of one result; raises ValueError on a field that could be ambiguous."""
    if not HOST_RE.match(host):
        raise ValueError("host name holds a line break")
    if not TIME_RE.match(signed_at):
        raise ValueError("signed_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if not NONCE_RE.match(nonce):
        raise ValueError("nonce is not 32 hex digits")
    signing_key = hmac.new(_utf8(key), _KEY_LABEL, hashlib.sha256).digest()
    signed = b"\n".join(_utf8(part) for part in (SCHEME, host, signed_at, nonce, payload))
    return hmac.new(signing_key, signed, hashlib.sha256).hexdigest()


def sign(key, host, signed_at, payload):
    # type: (object, str, str, str) -> dict
    """The signature the module returns beside its payload (``spse_baseline_signature``)."""
    nonce = new_nonce()
    return {"scheme": SCHEME, "host": host, "signed_at": signed_at, "nonce": nonce,
            "hmac": digest(key, host, signed_at, nonce, payload)}
