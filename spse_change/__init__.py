"""spse-change: record, classify and apply infrastructure changes on SPSE servers."""

__version__ = "0.1.0"
