"""`python -m engine export` / `import` (engine/app/dump_*.py): a province's database moves between backends.

A database with real activity (documents and tasks through their workflows, timers fired, feedback,
progress, notifications, an attachment, a calendar change, a settings change, a draft, an API token) is
exported, imported into a fresh database of each backend, compared table by table and row by row, and then
used: a step completed, a due timer fired, the consistency check clean. Refusals write nothing.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import os
import zipfile
from datetime import date, datetime

import psycopg
import pytest
from sqlalchemy import JSON, Text, cast, func, inspect, null, select
from sqlalchemy.engine import make_url

from engine.app.bootstrap import open_context
from engine.app.consistency import check_database
from engine.app.dump_export import export_database
from engine.app.dump_format import MANIFEST, DumpRefused
from engine.app.dump_import import import_database
from engine.app.migrations import upgrade
from engine.app.schema import metadata
from engine.core.clock import FixedClock
from engine.core.config import Config
from engine.core.db import Database
from engine.process import drafts, instances
from engine.process.timers import fire_due_timers
from engine.regulation import organisation, reorganisation, token_admin, tracking
from engine.worktime import calendar_overrides, timer_settings
from tests.databases import PG_URL
from tests.helpers import TZ, complete_step, register_task, run_cli

PDF = b"%PDF-1.4\n% bao cao tien do\n" + bytes(range(256)) + b"\n%%EOF\n"
AFTER = datetime(2025, 7, 1, 9, 0, tzinfo=TZ)   # after the played weeks
_names = itertools.count(1)


@pytest.fixture
def province(shipped, tmp_path):
    """The test's database after some weeks of work through the use cases, with files under tmp_path/files."""
    ctx = shipped
    ctx.config = dataclasses.replace(ctx.config, attachments_dir=tmp_path / "files")
    first = register_task(ctx, number_symbol="301/QĐ-UBND", deadline=date(2025, 5, 30))
    done = register_task(ctx, number_symbol="302/QĐ-UBND", lead_unit="so-tai-chinh", deadline=date(2025, 6, 30))
    register_task(ctx, number_symbol="303/CT-UBND", lead_unit="so-y-te", deadline=date(2025, 12, 30))
    complete_step(ctx, first.instance_id, "review_receipt", {"decision": "accept"}, actor="cv.so-tu-phap")
    complete_step(ctx, done.instance_id, "review_receipt", {"decision": "accept"})
    ctx.clock = FixedClock(datetime(2025, 5, 12, 9, 0, tzinfo=TZ))
    tracking.record_progress(ctx, first.task_id, "so-tu-phap",
                             {"state": "in_progress", "work_done": "Đã rà soát 12 thủ tục"}, "cv.so-tu-phap",
                             files=[("báo cáo tiến độ.pdf", io.BytesIO(PDF))])
    tracking.file_feedback(ctx, first.task_id, "huyen-ba-tri", "Đơn vị chủ trì chậm triển khai", actor="cv.hoa")
    complete_step(ctx, done.instance_id, "report_completion",
                  {"result": "Đã hoàn thành", "report_document": "12/BC", "completed_on": "2025-05-12"})
    complete_step(ctx, done.instance_id, "confirm_completion", {"decision": "confirm"})
    ctx.clock = FixedClock(AFTER)
    assert fire_due_timers(ctx, limit=1000, actor="timer").fired   # the first task's deadline reminders
    calendar_overrides.add_override(ctx, date(2025, 9, 1), "day_off", "Nghỉ bù Quốc khánh",
                                    "Thông báo 01/TB-UBND", "admin")
    setting = timer_settings.list_settings(ctx)[0][0]
    timer_settings.change_setting(ctx, setting.name, setting.value + 1, None, "admin", "Điều chỉnh thử")
    drafts.save_draft(ctx, "task_followup", drafts.open_for_editing(ctx, "task_followup").bpmn_xml, {}, "analyst")
    token_admin.issue_token(ctx, "cv.hoa", "Kết nối hệ thống báo cáo", "admin")
    # A unit merged into a newer one: a row pointing at a later row of its own table.
    organisation.add_unit(ctx, "so-y-te-moi", "Sở Y tế (mới)", "department", None, "admin")
    reorganisation.merge_unit(ctx, "so-y-te", "so-y-te-moi", "admin", "Sắp xếp tổ chức bộ máy")
    return ctx


@pytest.fixture
def new_database(tmp_path):
    """Make fresh, bare databases (no tables): `new_database("sqlite")` or ("postgres"); dropped afterwards."""
    made = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'target-{next(_names)}.db'}"
        if not PG_URL:
            pytest.skip("TEST_DATABASE_URL is not set")
        url = make_url(PG_URL)
        name = f"{url.database}_{os.getpid()}_dump{next(_names)}"   # dropped as stale if this run dies
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    yield make
    if made:
        with _admin() as admin:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin():
    url = make_url(PG_URL)
    return psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)


def every_row(url: str) -> dict[str, list[tuple]]:
    """Every table's rows by primary key, as SQLAlchemy reads them (aware instants, dates, JSON, enums, bytes)."""
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            return {table.name: [tuple(row) for row in connection.execute(
                select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for table in metadata.sorted_tables}
    finally:
        db.dispose()


def test_a_province_moves_to_each_backend_row_for_row_and_keeps_working(province, new_database, tmp_path,
                                                                        monkeypatch):
    source = province.config.database_url
    dump = tmp_path / "province.zip"
    monkeypatch.setenv("DATABASE_URL", source)
    monkeypatch.setenv("ATTACHMENTS_DIR", str(province.config.attachments_dir))
    exported = run_cli("export", dump)
    assert exported.returncode == 0, exported.stderr
    assert "exported" in exported.stdout and "1 files" in exported.stdout
    manifest = json.loads(zipfile.ZipFile(dump).read(MANIFEST))
    assert manifest["format_version"] == 1 and manifest["alembic_revision"]
    assert [t["name"] for t in manifest["tables"]] == [t.name for t in metadata.sorted_tables]
    rows = every_row(source)
    units = [dict(zip(metadata.tables["units"].columns.keys(), row, strict=True)) for row in rows["units"]]
    assert any((unit["merged_into_id"] or 0) > unit["id"] for unit in units)
    assert all(rows[name] for name in ("audit_log", "notifications", "progress_updates", "feedbacks",
                                       "waiting_timers", "ready_tasks", "attachments", "process_drafts",
                                       "api_tokens", "timer_setting_changes", "calendar_overrides"))
    source_backend = make_url(source).get_backend_name()
    targets = ["sqlite", "postgres"] if source_backend == "sqlite" and PG_URL else ["sqlite"]
    for backend in targets:
        target, files = new_database(backend), tmp_path / f"files-{backend}"
        monkeypatch.setenv("DATABASE_URL", target)
        monkeypatch.setenv("ATTACHMENTS_DIR", str(files))
        imported = run_cli("import", dump)
        assert imported.returncode == 0, imported.stderr
        assert every_row(target) == rows, f"{source_backend} -> {backend}"
        digest = rows["attachments"][0][6]
        assert (files / digest[:2] / digest).read_bytes() == PDF
        _keeps_working(target, files)


def _keeps_working(url: str, files) -> None:
    ctx = open_context(Config(database_url=url, deploy_on_start=False, attachments_dir=files), FixedClock(AFTER))
    try:
        assert check_database(ctx).disagreements == []
        ready = next(t for t in instances.list_ready_tasks(ctx, limit=5000) if t.bpmn_id == "review_receipt")
        moved = instances.complete_task(ctx, ready.instance_id, ready.task_id, {"decision": "accept"}, actor="cv.hoa")
        assert moved.next_tasks   # new ids from the sequences: no collision with the imported rows
        ctx.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=TZ))
        report = fire_due_timers(ctx, limit=1000, actor="timer")
        assert report.fired and not report.failed
        assert check_database(ctx).disagreements == []
        token_admin.issue_token(ctx, "cv.hoa", "Sau khi chuyển", "admin")
    finally:
        ctx.db.dispose()


@pytest.fixture
def small_dump(registered_task, shipped, tmp_path):
    """A dump of a database holding one registered task."""
    registered_task()
    path = tmp_path / "small.zip"
    export_database(shipped.config.database_url, tmp_path / "files", path)
    return path


def _rewritten(source, target, change) -> None:
    """Copy a dump, passing each member's name and bytes through `change` (None drops the member)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = change(item.filename, old.read(item.filename))
            if data is not None:
                new.writestr(item.filename, data)


def _import_refused(dump, url: str, tmp_path, says: str) -> None:
    result = run_cli("import", dump, database_url=url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "import refused" in result.stderr and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _tables(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            names = inspect(connection).get_table_names()
            return {name: connection.execute(select(func.count()).select_from(metadata.tables[name])).scalar()
                    for name in names if name in metadata.tables}
    finally:
        db.dispose()


def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(small_dump, shipped, tmp_path):
    before = every_row(shipped.config.database_url)
    _import_refused(small_dump, shipped.config.database_url, tmp_path, "not empty")
    assert every_row(shipped.config.database_url) == before


def test_a_migrated_database_with_its_reference_rows_is_refused(small_dump, tmp_path):
    target = f"sqlite:///{tmp_path / 'seeded.db'}"
    assert run_cli("migrate", database_url=target).returncode == 0
    _import_refused(small_dump, target, tmp_path, "timer_settings")


def test_a_dump_of_another_revision_is_refused_before_anything_is_written(small_dump, tmp_path):
    older = tmp_path / "older.zip"

    def other_revision(name, data):
        if name != MANIFEST:
            return data
        return json.dumps(dict(json.loads(data), alembic_revision="0009")).encode()

    _rewritten(small_dump, older, other_revision)
    target = tmp_path / "bare.db"
    _import_refused(older, f"sqlite:///{target}", tmp_path, "revision 0009")
    assert not target.exists() or _tables(f"sqlite:///{target}") == {}


def test_a_target_at_another_revision_is_refused(small_dump, tmp_path):
    target = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(target, "0010")
    _import_refused(small_dump, target, tmp_path, "target database is at migration revision 0010")


def test_a_truncated_file_is_refused(small_dump, tmp_path):
    cut = tmp_path / "cut.zip"
    cut.write_bytes(small_dump.read_bytes()[: small_dump.stat().st_size // 2])
    target = tmp_path / "bare.db"
    _import_refused(cut, f"sqlite:///{target}", tmp_path, "damaged")
    assert not target.exists()


def test_a_corrupted_member_is_refused_before_anything_is_written(small_dump, tmp_path):
    data = bytearray(small_dump.read_bytes())
    with zipfile.ZipFile(small_dump) as archive:
        item = archive.getinfo("tables/audit_log.jsonl")
    middle = item.header_offset + 30 + len(item.filename) + len(item.extra) + item.compress_size // 2
    data[middle] ^= 0xFF
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(data))
    target = tmp_path / "bare.db"
    _import_refused(broken, f"sqlite:///{target}", tmp_path, "damaged")
    assert not target.exists()


def test_a_dump_whose_rows_disagree_with_its_manifest_is_rolled_back(small_dump, tmp_path):
    short = tmp_path / "short.zip"

    def drop_last_audit_row(name, data):
        if name == "tables/audit_log.jsonl":
            return b"".join(data.splitlines(keepends=True)[:-1])
        return data

    _rewritten(small_dump, short, drop_last_audit_row)
    target = f"sqlite:///{tmp_path / 'bare.db'}"
    _import_refused(short, target, tmp_path, "audit_log holds")
    assert set(_tables(target).values()) == {0}   # migrated to the dump's revision, every table empty


def test_a_file_that_is_no_dump_is_refused(tmp_path):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "không phải bản sao")
    with pytest.raises(DumpRefused, match="no manifest"):
        import_database(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, other)
    missing = run_cli("import", tmp_path / "nothing.zip", database_url=f"sqlite:///{tmp_path / 'y.db'}")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_exporting_a_database_never_migrated_is_refused(tmp_path):
    with contextlib.suppress(FileNotFoundError):
        (tmp_path / "none.db").unlink()
    result = run_cli("export", tmp_path / "out.zip", database_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert result.returncode == 2 and "migrate" in result.stderr
    assert not (tmp_path / "out.zip").exists() and not (tmp_path / "out.zip.partial").exists()


def test_sql_null_and_json_null_stay_apart(registered_task, shipped, new_database, tmp_path):
    registered_task()
    registered_task(number_symbol="302/QĐ-UBND")
    table = metadata.tables["notifications"]
    with shipped.unit_of_work() as session:
        ids = session.scalars(select(table.c.id).order_by(table.c.id).limit(2)).all()
        session.execute(table.update().where(table.c.id == ids[0]).values(params=null()))       # SQL NULL
        session.execute(table.update().where(table.c.id == ids[1]).values(params=JSON.NULL))    # JSON null
    dump = tmp_path / "nulls.zip"
    export_database(shipped.config.database_url, tmp_path / "files", dump)
    for backend in ["sqlite", "postgres"] if PG_URL else ["sqlite"]:
        target = new_database(backend)
        import_database(target, tmp_path / "files", dump)
        db = Database(target)
        try:
            with db.engine.connect() as connection:
                stored = connection.execute(select(table.c.id, table.c.params.is_(None), cast(table.c.params, Text))
                                            .where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        finally:
            db.dispose()
        assert [tuple(row) for row in stored] == [(ids[0], True, None), (ids[1], False, "null")], backend


def test_exporting_a_database_behind_this_code_is_refused(tmp_path):
    behind = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(behind, "0010")
    result = run_cli("export", tmp_path / "out.zip", database_url=behind)
    assert result.returncode == 2 and "revision 0010" in result.stderr and "migrate" in result.stderr
    unwritable = run_cli("export", tmp_path / "no-such-folder" / "out.zip",
                         database_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert unwritable.returncode == 1 and "no-such-folder" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr
