"""`python -m bot`: help, events import and list, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "EVENTS_", "ADMIN_", "PORT"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, **(env or {})}, cwd=cwd)


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0 and "events" in result.stdout


def test_import_on_the_embedded_store_checks_the_file_and_refuses() -> None:
    """Without MONGODB_URI an import would vanish with the command: the file is validated, nothing is claimed to be
    imported, exit 2, and the way out (MONGODB_URI, or EVENTS_FILE at every start) is named."""
    result = run("events", "import", str(EXAMPLES))
    assert result.returncode == 2
    assert "Imported" not in result.stdout + result.stderr
    assert "is valid: 3 events (jazz-senja-2026, workshop-ui-bandung, kecak-uluwatu-2027)" in result.stderr
    assert "Not imported: MONGODB_URI is not set" in result.stderr
    assert f"EVENTS_FILE={EXAMPLES}" in result.stderr
    assert "`python -m bot run` and `python -m bot sandbox` load that file at every start" in result.stderr
    assert "python -m bot events import" not in result.stderr  # never the same command again


def test_list_on_an_empty_embedded_store_does_not_send_the_operator_to_import() -> None:
    result = run("events", "list")
    assert result.returncode == 0, result.stderr
    assert "MONGODB_URI is not set" in result.stdout and "EVENTS_FILE" in result.stdout
    assert "events import" not in result.stdout


def test_list_prints_a_table_sized_to_its_content(tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EXAMPLES.read_text().replace(
        "name: Reguler", "name: Reguler, standing only, by the big stage near the lake"))
    result = run("events", "list", env={"EVENTS_FILE": str(events)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["jazz-senja-2026", "[on_sale]", "Jazz", "Senja", "di", "Taman:", "Malam", "Tahun",
                                "Baru"]
    assert lines[1] == ("  2026-12-31 19:00 WIB – 2027-01-01 00:30 WIB, Taman Ismail Marzuki, Jl. Cikini Raya No.73, "
                        "Jakarta Pusat")
    assert lines[2] == "  sales: 2026-11-01 10:00 WIB – 2026-12-31 21:00 WIB"
    header, early, reg, vip = lines[3:7]
    assert header.split() == ["code", "tier", "price", "available", "pending", "sold", "capacity"]
    assert "VIP (front lawn, welcome drink)" in vip  # commas stay commas
    assert "Reguler, standing only, by the big stage near the lake" in reg
    assert "Rp150.000" in early and "Rp250.000" in reg and "Rp750.000" in vip
    for column in ("tier", "price", "available", "capacity"):  # every row's cells line up under the header
        edge = header.index(column) + (len(column) if column != "tier" else 0)
        for row in (early, reg, vip):
            if column == "tier":
                assert row[edge - 1] == " " and row[edge] != " "
            else:
                assert row[edge - 1] != " " and (edge == len(row) or row[edge] == " ")
    free = next(line for line in lines if line.strip().startswith("FREE"))
    assert " Free " in free and "Rp 0" not in result.stdout and "Rp0" not in result.stdout
    assert "Rp99.000" in result.stdout


def test_import_warns_of_an_event_in_the_past(tmp_path: Path) -> None:
    past = tmp_path / "events.yaml"
    past.write_text(EXAMPLES.read_text().replace("2027-01-16", "2025-01-16"))
    result = run("events", "import", str(past))
    assert "warning: event #2 (workshop-ui-bandung): it ended on 2025-01-16 05:30 UTC, which is in the past" in (
        result.stderr)
    assert "is valid: 3 events" in result.stderr  # a warning, not an error


def test_invalid_file_fails_with_event_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "events.yaml"
    bad.write_text(EXAMPLES.read_text().replace("price: 150000", "price: -1"))
    result = run("events", "import", str(bad))
    assert result.returncode == 2
    assert 'event #1 (jazz-senja-2026), tier #1 ("EARLY"), price: -1 is too small' in result.stderr


def test_invalid_configuration_lists_every_variable(tmp_path: Path) -> None:
    result = run("events", "list", env={"PORT": "http", "RESERVATION_MINUTES": "-3"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PORT" in result.stderr and "RESERVATION_MINUTES" in result.stderr


def test_import_then_list_against_a_server(wire_uri: str) -> None:
    env = {"MONGODB_URI": wire_uri, "MONGODB_DB": "karcis_cli"}
    imported = run("events", "import", str(EXAMPLES), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "Imported 3 events" in imported.stdout and "3 created" in imported.stdout
    assert "Nothing is persisted" not in imported.stderr
    listed = run("events", "list", env=env).stdout
    assert "workshop-ui-bandung" in listed
    assert "2026-12-31 19:00 WIB – 2027-01-01 00:30 WIB" in listed
    assert "2027-01-09 19:00 WITA – 2027-01-09 20:30 WITA" in listed  # the Bali event in its own zone
    assert "sales: 2026-11-15 10:00 WITA – 2027-01-09 20:30 WITA" in listed


def test_a_mongodb_that_does_not_answer_is_one_line_without_the_password() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("events", "list", env={"MONGODB_URI": f"mongodb://karcis:hunter2@127.0.0.1:{port}/x"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout
    [line] = [line for line in result.stderr.splitlines() if not line[:4].isdigit()]  # not a log line
    assert line.startswith(f"Cannot start: MongoDB at 127.0.0.1:{port} (MONGODB_URI) did not answer")
    assert "Check MONGODB_URI" in line
