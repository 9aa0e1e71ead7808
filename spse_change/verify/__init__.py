"""Server verification: standard checks and baseline conformance, run as pytest tests on snapshots."""

from spse_change.verify.service import VerifyRequest, VerifyResult, verify_hosts

__all__ = ["VerifyRequest", "VerifyResult", "verify_hosts"]
