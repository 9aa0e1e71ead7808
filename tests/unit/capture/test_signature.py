"""The capture result's signature: what it binds, and a capture that refuses a result that fails it."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from spse_change.capture.signature import SCHEME, verify
from spse_change.errors import SpseChangeError
from tests.unit.runner.conftest import FakeHosts

KEY = b"0123456789abcdef" * 4
AT = "2026-11-28T08:00:00.123456Z"
PAYLOAD = '{"data":{"os":{"kernel":"6.1"}}}'


def test_a_signed_result_verifies_and_says_its_time_and_nonce() -> None:
    signature = SCHEME.sign(KEY, "db1", AT, PAYLOAD)
    signed = verify(KEY, "db1", PAYLOAD, signature)
    assert f"{signed.signed_at:%Y-%m-%dT%H:%M:%S.%fZ}" == AT and signed.nonce == signature["nonce"]
    assert SCHEME.sign(KEY, "db1", AT, PAYLOAD)["nonce"] != signature["nonce"]


@pytest.mark.parametrize(("change", "said"), [
    ({"payload": PAYLOAD.replace("6.1", "6.2")}, "does not match"),
    ({"key": b"f" * 64}, "does not match"),
    ({"as_host": "db2"}, "signed for host 'db1', not 'db2'"),
    ({"signed_at": "2026-11-28T08:00:00.123457Z"}, "does not match"),
    ({"nonce": "0" * 32}, "does not match"),
    ({"nonce": "xyz"}, "malformed (nonce is not 32 hex digits)"),
    ({"signed_at": "yesterday"}, "malformed (signed_at is not"),
    ({"scheme": "spse-change/result/0"}, "scheme 'spse-change/result/0' is not"),
    ({"hmac": None}, "lacks a field"),
])
def test_each_bound_field_counts(change: dict, said: str) -> None:
    signature = SCHEME.sign(KEY, "db1", AT, PAYLOAD)
    signature.update({k: v for k, v in change.items() if k in signature})
    with pytest.raises(SpseChangeError, match=said.replace("(", r"\(").replace(")", r"\)")):
        verify(change.get("key", KEY), change.get("as_host", "db1"), change.get("payload", PAYLOAD),
               signature)


def test_the_signing_key_is_derived_not_the_secret_markers_key() -> None:
    """A signature is never an HMAC that the secret scrubber (HMAC(key, value)) could also make."""
    signature = SCHEME.sign(KEY, "db1", AT, PAYLOAD)
    signed = b"\n".join(x.encode() for x in (SCHEME.SCHEME, "db1", AT, signature["nonce"], PAYLOAD))
    assert signature["hmac"] != hmac.new(KEY, signed, hashlib.sha256).hexdigest()


def test_a_capture_stores_no_result_whose_signature_fails(tmp_path: Path) -> None:
    """One byte of one host's result changed between the module and the controller."""
    fake = FakeHosts(tmp_path)
    fake.answer("good")
    fake.answer("forged")
    script = fake.bin / "host1"
    script.write_text(script.read_text().replace("6.1", "6.2"))
    proc = fake.spse_change("baseline", "capture", "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    doc = json.loads(out)
    assert list(doc["stored"]) == ["good"] and list(fake.stored()) == ["good"]
    assert doc["failed"] == {"forged": "the result's signature does not match: it was changed "
                                       "after capture, or signed with another key than this project's"}
