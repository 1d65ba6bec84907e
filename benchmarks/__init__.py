"""Benchmarks (`make bench`): whole flows through Prefect against the sandbox with latency.

Not part of the test run. Each prints one `BENCH {json}` line per scenario on stdout.
"""
