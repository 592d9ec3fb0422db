"""`python -m engine` as a user runs it: exit codes and plain lines, never a traceback."""
from __future__ import annotations

import pytest

from tests.helpers import BPMN, ROOT
from tests.helpers import run_cli as run  # tests/test_cli_instances.py imports it from here

MIWG = BPMN / "conformance" / "miwg-reference"  # a copy in the repository: CI has nothing else


def test_validate_accepts_the_shipped_diagrams():
    result = run("validate", *sorted((ROOT / "processes").glob("*.bpmn")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "feedback_followup.bpmn: ok" in result.stdout


def test_validate_explains_each_problem_with_file_and_location_without_traceback():
    files = sorted(BPMN.glob("invalid_*.bpmn"))
    result = run("validate", *files)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    for path in files:
        mine = [line for line in lines if line.startswith(str(path))]
        assert mine, f"nothing said about {path.name}"
        # FILE:LINE: ... or FILE: [element] ...
        assert all(line[len(str(path))] == ":" for line in mine)


def test_validate_explains_why_the_conformance_models_cannot_be_deployed():
    files = sorted(MIWG.glob("*.bpmn"))
    assert len(files) == 21
    result = run("validate", *files)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 1
    assert "no executable process" in result.stdout


def test_validate_of_a_missing_file_says_so():
    result = run("validate", "no/such/file.bpmn")
    assert result.returncode == 1 and "cannot read" in result.stdout


def test_deploy_twice_is_a_no_op_the_second_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("migrate", database_url=url).returncode == 0
    first = run("deploy", BPMN / "three_step.bpmn", database_url=url)
    second = run("deploy", BPMN / "three_step.bpmn", database_url=url)
    assert "three_step deployed as version 1" in first.stdout
    assert "three_step unchanged, still version 1" in second.stdout


def test_deploy_refuses_an_invalid_file_with_exit_1(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run("migrate", database_url=url)
    result = run("deploy", BPMN / "invalid_script_import.bpmn", database_url=url)
    assert result.returncode == 1 and "import is not allowed" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def migrated_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = run("migrate", database_url=url)
    assert result.returncode == 0, result.stderr
    return url


def test_migrate_seeds_the_reference_data_once(migrated_url):
    again = run("migrate", database_url=migrated_url)
    assert "seeded 0 timer_settings, 0 calendar_overrides" in again.stdout


def test_calendar_add_working_days_prints_the_deadline_date(migrated_url):
    result = run("calendar", "add-working-days", "2025-04-25T16:00", "7", database_url=migrated_url)
    assert result.returncode == 0 and result.stdout.strip() == "2025-05-08"


def test_calendar_days_off_lists_swaps_with_their_source(migrated_url):
    result = run("calendar", "days-off", "2026", database_url=migrated_url)
    assert "2026-01-10\tlàm bù / make-up working day" in result.stdout
    assert "12729/VPCP-KGVX" in result.stdout


def test_timers_fire_due_at_an_instant_fires_what_is_due(migrated_url):
    url = migrated_url
    run("deploy", database_url=url)
    from datetime import datetime

    from engine.app.bootstrap import open_context
    from engine.core.clock import FixedClock
    from engine.core.config import Config
    from engine.process import instances
    from tests.helpers import TZ

    ctx = open_context(Config(database_url=url), FixedClock(datetime(2025, 4, 25, 16, 0, tzinfo=TZ)))
    started = instances.start_instance(ctx, "feedback_followup", {"received_at": "2025-04-25T16:00:00+07:00"})
    ctx.db.dispose()
    result = run("timers", "fire-due", "--at", "2025-05-09T08:00+07:00", database_url=url)
    assert result.returncode == 0, result.stderr
    assert f"instance {started.id}: fired limit_exceeded" in result.stdout
    assert "fired 2, failed 0, skipped 0" in result.stdout


def test_a_database_without_schema_gets_a_hint_not_a_traceback(tmp_path):
    result = run("timers", "fire-due", database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1 and "python -m engine migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_folder_of_a_new_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'not' / 'yet' / 'there.db'}"
    result = run("migrate", database_url=url)
    assert result.returncode == 0, result.stderr
