"""Execution nodes: whether a machine can run our playbooks for `--via` (docs/nodes.md)."""
