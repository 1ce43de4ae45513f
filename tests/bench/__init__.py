"""Smoke tests of the benchmarks in bench/: each run at a tiny size.

- test_network_bench: bench/network_bench.py (issue 18) with 2 sites x 2 kiosks, 1 worker.
"""
