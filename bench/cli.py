"""The command line: `python -m bench <name> [--json] [--store memory|mongoeco|URI] [size options]`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import time
from types import ModuleType
from typing import Any

from bench.common import Result, StoreInfo, machine_info, opened_store, print_result

BENCHMARKS = ("reserve", "chat", "webhook", "delivery", "checkin", "expiry", "commands", "onsale")


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"bench.{name}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = top.add_subparsers(dest="name", required=True, metavar="{" + ",".join(BENCHMARKS) + "}")
    for name in BENCHMARKS:
        module = _module(name)
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.add_argument("--json", action="store_true", help="print exactly one JSON object instead of a table")
        p.add_argument("--store", default=getattr(module, "DEFAULT_STORE", "memory"),
                       help="memory (embedded in-memory store), mongoeco (start a mongoeco wire server from "
                            ".venv-mongoeco), or a MongoDB URI")
        p.add_argument("--verbose", action="store_true", help="show Karcis's own log lines")
        module.add_arguments(p)
    return top


async def _run(args: argparse.Namespace) -> tuple[Result, StoreInfo, dict[str, Any], float]:
    machine = machine_info()
    began = time.perf_counter()
    store_options = getattr(_module(args.name), "store_options", None)  # e.g. a command listener on the client
    async with opened_store(args.store, **(store_options(args) if store_options else {})) as store:
        result = await _module(args.name).run(args, store)
    return result, store, machine, time.perf_counter() - began


def _quiet(verbose: bool) -> None:
    """Warnings and errors only (a benchmark should cause none; if it does, they matter)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _run_on_its_loop(args: argparse.Namespace) -> tuple[Result, StoreInfo, dict[str, Any], float]:
    """On the benchmark's own kind of event loop if it names one (`loop_factory`: onsale's virtual clock)."""
    with asyncio.Runner(loop_factory=getattr(_module(args.name), "loop_factory", None)) as runner:
        return runner.run(_run(args))


def run_to_dict(argv: list[str]) -> dict[str, Any]:
    """Run one benchmark in this process and return its JSON object (for tests)."""
    args = parser().parse_args(argv)
    result, store, machine, seconds = _run_on_its_loop(args)
    return result.to_json(store, machine, seconds)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _quiet(args.verbose)
    result, store, machine, seconds = _run_on_its_loop(args)
    print_result(result, store, machine, seconds, as_json=args.json)
    return 0
