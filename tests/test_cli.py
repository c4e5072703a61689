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


def test_import_reports_and_warns_that_the_embedded_store_is_not_persisted() -> None:
    result = run("events", "import", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert "Imported 2 event(s)" in result.stdout and "2 created" in result.stdout
    assert "Nothing is persisted" in result.stderr


def test_list_shows_events_loaded_from_events_file() -> None:
    result = run("events", "list", env={"EVENTS_FILE": str(EXAMPLES)})
    assert result.returncode == 0, result.stderr
    assert "jazz-senja-2026" in result.stdout and "Rp     150.000" in result.stdout
    assert "2026-12-31 19:00 WIB" in result.stdout


def test_invalid_file_fails_with_event_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "events.yaml"
    bad.write_text(EXAMPLES.read_text().replace("price: 150000", "price: -1"))
    result = run("events", "import", str(bad))
    assert result.returncode == 2
    assert "event #1 (jazz-senja-2026): tiers.0.price" in result.stderr


def test_invalid_configuration_lists_every_variable(tmp_path: Path) -> None:
    result = run("events", "list", env={"PORT": "http", "RESERVATION_MINUTES": "-3"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PORT" in result.stderr and "RESERVATION_MINUTES" in result.stderr


def test_import_then_list_against_a_server(wire_uri: str) -> None:
    env = {"MONGODB_URI": wire_uri, "MONGODB_DB": "karcis_cli"}
    imported = run("events", "import", str(EXAMPLES), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "Nothing is persisted" not in imported.stderr
    assert "workshop-ui-bandung" in run("events", "list", env=env).stdout
