"""Helpers of bench/probe.py: the stack it starts, the hostile files it sends, and its
sections (docs/reliability.md). The S3 fault proxy is the tests' (deblursite/tests/faults.py)."""
