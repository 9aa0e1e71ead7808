"""Server verification: standard checks and baseline conformance, run as pytest tests on snapshots.

The service is `spse_change.verify.service` (`VerifyRequest`, `verify_hosts`); it is not imported
here, so importing a light part of the package (junit, registry) does not import pytest.
"""
