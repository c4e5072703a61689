"""Karcis benchmarks: `python -m bench <name> [--json] [--store memory|mongoeco|URI] [size options]`.

Each benchmark measures what Karcis does per second beside a baseline measured in the same run (see
docs/performance.md). None asserts on speed; `tests/test_bench_smoke.py` runs each at a tiny size.
"""

from bench.cli import BENCHMARKS, main, run_to_dict

__all__ = ["BENCHMARKS", "main", "run_to_dict"]
