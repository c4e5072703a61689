"""Every benchmark of `python -m bench` still runs, at a tiny size, and reports its fields. Nothing here looks at
speed: the figures belong in docs/performance.md, not in a test that a busy machine could fail."""

from __future__ import annotations

import json

import pytest

from bench import BENCHMARKS, main, run_to_dict
from tests.mongo_server import find_mongoeco_python

COMMON = {"benchmark", "store", "python", "machine", "params", "wall_seconds"}

TINY: dict[str, tuple[list[str], set[str]]] = {
    "reserve": (["--buyers", "60", "--seats", "20"],
                {"attempts", "reserved", "oversold", "invariant_ok", "seconds", "per_second"}),
    "chat": (["--buyers", "3", "--concurrency", "2"],
             {"updates_per_second", "echo_updates_per_second", "ratio", "p50_ms", "p99_ms"}),
    "webhook": (["--notifications", "20", "--concurrency", "5"],
                {"per_second", "bare_per_second", "ratio", "p50_ms", "p99_ms"}),
    "delivery": (["--orders", "3", "--qr-renders", "4"], {"p50_ms", "p95_ms", "qr_ms_per_ticket"}),
    "checkin": (["--tickets", "30", "--scanners", "3", "--double-scans", "5"],
                {"per_second", "double_scan_p50_ms", "double_scan_p99_ms", "checked_in_once"}),
    "expiry": (["--sizes", "200/2,600/6"], {"seconds_per_sweep", "per_due_order_ms", "per_due_order_ratio"}),
    "commands": (["--sweep-due", "2"], {"actions", "purchase_commands", "purchase_minimum", "max_ratio",
                                       "catalog_load_commands", "target_met"}),
    "onsale": (["--buyers", "6", "--tickets", "2", "--window", "2"],
               {"link_s", "tickets_s", "http_429", "http_429_max_per_minute", "messages_per_purchase",
                "mongodb_commands_per_purchase", "ratio", "floor_s", "max_inversion_s", "oversold"}),
}
WIRE_ONLY = {"commands"}  # counted on the wire: a mongoeco server by default


def test_every_benchmark_has_a_smoke_run() -> None:
    assert set(TINY) == set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_and_reports_its_fields(name: str) -> None:
    argv, fields = TINY[name]
    if name in WIRE_ONLY and find_mongoeco_python() is None:
        pytest.skip("no .venv-mongoeco: run .ci/mongoeco-venv.sh")
    result = run_to_dict([name, *argv])
    assert result["benchmark"] == name
    assert fields | COMMON <= result.keys(), sorted(fields | COMMON - result.keys())
    assert result["store"] == ("mongoeco" if name in WIRE_ONLY else "memory")
    assert result["invariant_ok"] is True, result["notes"]
    if name == "reserve":
        assert result["oversold"] == 0
        assert result["reserved"] == 20 and result["attempts"] == 60
    if name == "onsale":  # every buyer paid and got both tickets, nothing oversold, nothing left owed
        assert result["oversold"] == 0 and result["paid"] == 6 and result["orders_paid"] == 6
        assert result["tickets_short"] == 0 and result["still_owed"] == 0
    if name == "checkin":
        assert result["checked_in_once"] is True and result["double_scan_ok"] is True
    if name == "commands":
        for action in ("reserve, 1 tier", "reserve, 2 tiers", "chat: confirm", "settlement notification",
                       "delivery job", "check-in (/start t_<code>)", "expiry sweep, 2 due"):
            entry = result["actions"][action]
            assert {"commands", "minimum", "ratio", "detail", "minimum_because"} <= entry.keys(), action
            assert entry["commands"] >= entry["minimum"] > 0, (action, entry)  # a minimum is a floor


def test_commands_refuses_the_embedded_store() -> None:
    with pytest.raises(SystemExit, match="on the wire"):
        run_to_dict(["commands", "--store", "memory"])


def test_json_output_is_exactly_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reserve", "--json", "--buyers", "10", "--seats", "5"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)  # the whole output: one JSON object and nothing else
    assert result["oversold"] == 0 and result["reserved"] == 5


def test_table_output_names_the_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checkin", "--tickets", "5", "--double-scans", "2"]) == 0
    out = capsys.readouterr().out
    assert "== bench checkin ==" in out and "cores" in out and "per_second" in out


@pytest.mark.skipif(find_mongoeco_python() is None, reason="no .venv-mongoeco: run .ci/mongoeco-venv.sh")
def test_reserve_over_a_wire_server() -> None:
    result = run_to_dict(["reserve", "--store", "mongoeco", "--buyers", "30", "--seats", "10"])
    assert result["store"] == "mongoeco"
    assert result["oversold"] == 0 and result["invariant_ok"] is True and result["reserved"] == 10
