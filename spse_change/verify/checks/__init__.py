"""The checks `spse-change verify` runs (pytest tests; see conftest.py for how to add one)."""
