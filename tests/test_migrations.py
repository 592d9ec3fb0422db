"""The Alembic migrations build exactly the schema the models describe, and can be undone."""
from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, insert, text
from sqlalchemy.engine import make_url

from engine.app.migrations import alembic_config
from engine.app.schema import metadata
from tests.databases import PG_URL, backends

SCRATCH = f"test_migration_scratch_{os.getpid()}"  # of this run: other runs may share the server


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []


def test_migrations_downgrade_to_nothing_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


@pytest.fixture(params=backends())
def scratch_url(request, tmp_path):
    """An empty database of its own on each backend (migrations are run down and up on it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}"'))
        conn.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    yield make_url(PG_URL).set(database=SCRATCH).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
    admin.dispose()


def _tables_at(url: str, revision: str):
    """The database migrated up to `revision`, and its tables as they are there (reflected)."""
    command.upgrade(alembic_config(url), revision)
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    return engine, tables.tables


def test_rounds_opened_before_0006_are_backfilled_with_their_consolidation(scratch_url):
    engine, t = _tables_at(scratch_url, "0005")
    opened, done = datetime(2025, 6, 16, 2, tzinfo=UTC), datetime(2025, 6, 23, 8, tzinfo=UTC)
    due = datetime(2025, 6, 19, 17, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(t["units"]), [
            dict(id=1, code="so-tu-phap", name="Sở Tư pháp", kind="department", active=True),
            dict(id=2, code="so-y-te", name="Sở Y tế", kind="department", active=True)])
        conn.execute(insert(t["definition_versions"]), dict(
            id=1, process_id="periodic_report_consolidation", version=1, content_hash="x" * 64, source_file="c.bpmn",
            bpmn_xml=b"<x/>", spec_json="{}", deployed_at=opened, deployed_by="seed"))
        conn.execute(insert(t["process_instances"]), [dict(
            id=i, definition_id=1, process_id="periodic_report_consolidation",
            status="completed" if i == 7 else "running", state_json="{}", started_by="cv.hoa", created_at=opened,
            updated_at=opened, row_version=1, business_key=key)
            for i, key in ((7, "2025-Q2"), (8, "2025-M06"))])
        conn.execute(insert(t["periodic_reports"]), [dict(unit_id=u, period_key=key, figures={}, content="", due_at=due)
                                                     for u in (1, 2) for key in ("2025-Q2", "2025-M06")])
        conn.execute(insert(t["audit_log"]), dict(at=done, actor="cv.minh", action="reports_consolidated",
                                                  instance_id=7, summary={}))
        conn.execute(insert(t["notifications"]), dict(kind="reports_consolidated", title="Đã tổng hợp", instance_id=7,
                                                      body="Tổng hợp Quý II", created_at=done, role="office_leader"))
    command.upgrade(alembic_config(scratch_url), "head")
    with engine.connect() as conn:
        rows = {r.period_key: r for r in conn.execute(text(
            "SELECT period_key, consolidation_instance_id, opened_by, consolidated_by, consolidated_at, summary "
            "FROM reporting_rounds"))}
    engine.dispose()
    assert set(rows) == {"2025-Q2", "2025-M06"}
    q2, june = rows["2025-Q2"], rows["2025-M06"]
    assert (q2.consolidation_instance_id, q2.opened_by, q2.consolidated_by, q2.summary) == (
        7, "cv.hoa", "cv.minh", "Tổng hợp Quý II")
    assert q2.consolidated_at is not None
    assert (june.consolidation_instance_id, june.consolidated_by, june.consolidated_at, june.summary) == (
        8, None, None, "")


def test_0008_names_the_unit_of_province_wide_notices_and_keeps_what_was_read_read_for_its_readers(scratch_url):
    engine, t = _tables_at(scratch_url, "0007")
    at, read = datetime(2025, 6, 16, 2, tzinfo=UTC), datetime(2025, 6, 17, 2, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(t["units"]), [
            dict(id=1, code="ubnd-tinh", name="UBND tỉnh", kind="ppc", parent_id=None, active=True),
            dict(id=2, code="vp-ubnd", name="Văn phòng", kind="provincial_office", parent_id=1, active=True),
            dict(id=3, code="vp-phong", name="Phòng", kind="sub_unit", parent_id=2, active=True),
            dict(id=4, code="so-tu-phap", name="Sở Tư pháp", kind="department", parent_id=None, active=True)])
        conn.execute(insert(t["users"]), [dict(id=i, username=name, full_name=name, unit_id=unit, active=True,
                                               created_at=at) for i, name, unit in (
            (1, "ld.ubnd", 1), (2, "cv.hoa", 2), (3, "cv.tuan", 3), (4, "dm.stp", 4))])
        conn.execute(insert(t["notifications"]), [
            dict(id=i, kind="overdue", title="t", body="", created_at=at, role=role, unit_code=unit, user_id=user,
                 read_at=read_at) for i, role, unit, user, read_at in (
                (1, "tracking_specialist", None, None, read), (2, "ppc_leader", None, None, None),
                (3, None, None, 4, read), (4, "unit_focal_point", "so-tu-phap", None, None))])
    command.upgrade(alembic_config(scratch_url), "head")
    with engine.connect() as conn:
        units = dict(conn.execute(text("SELECT id, unit_code FROM notifications")).all())
        reads = set(conn.execute(text("SELECT notification_id, user_id FROM notification_reads")).all())
    assert units == {1: "vp-ubnd", 2: "ubnd-tinh", 3: None, 4: "so-tu-phap"}
    assert reads == {(1, 2), (1, 3), (3, 4)}   # the Office's notice stays read for its staff, divisions too
    command.downgrade(alembic_config(scratch_url), "0007")
    with engine.connect() as conn:
        was_read = dict(conn.execute(text("SELECT id, read_at IS NOT NULL FROM notifications")).all())
    engine.dispose()
    assert {k: bool(v) for k, v in was_read.items()} == {1: True, 2: False, 3: True, 4: False}


def test_0015_notes_the_deadline_of_tasks_already_reminded_or_flagged_so_they_are_not_told_again(scratch_url):
    engine, t = _tables_at(scratch_url, "0014")
    at, deadline = datetime(2025, 6, 16, 2, tzinfo=UTC), datetime(2025, 6, 30).date()
    with engine.begin() as conn:
        conn.execute(insert(t["units"]), dict(id=1, code="so-tu-phap", name="Sở Tư pháp", kind="department",
                                              active=True))
        conn.execute(insert(t["documents"]), dict(id=1, number_symbol="1/QĐ-UBND", issued_on=deadline,
                                                  doc_type="quyet_dinh", issuer="UBND", signer="CT", summary="s",
                                                  registered_by="cv.hoa", registered_at=at))
        conn.execute(insert(t["definition_versions"]), dict(
            id=1, process_id="task_followup", version=1, content_hash="x" * 64, source_file="t.bpmn",
            bpmn_xml=b"<x/>", spec_json="{}", deployed_at=at, deployed_by="seed"))
        conn.execute(insert(t["process_instances"]), [dict(
            id=i, definition_id=1, process_id="task_followup", status="running", state_json="{}",
            started_by="cv.hoa", created_at=at, updated_at=at, row_version=1) for i in (1, 2, 3)])
        conn.execute(insert(t["tracked_tasks"]), [dict(
            id=i, document_id=1, content="c", lead_unit_id=1, deadline=deadline if i < 3 else None,
            expected_output="o", status="in_progress", urge_count=0, assigned_at=at, instance_id=i)
            for i in (1, 2, 3)])
        conn.execute(insert(t["notifications"]), [dict(kind=kind, title="t", body="", created_at=at, instance_id=i)
                                                  for i, kind in ((1, "deadline_reminder"), (1, "overdue"),
                                                                  (2, "deadline_reminder"), (3, "overdue"))])
    command.upgrade(alembic_config(scratch_url), "0015")
    with engine.connect() as conn:
        noted = {r.id: tuple(str(d) if d else None for d in r[1:]) for r in conn.execute(text(
            "SELECT id, deadline_reminded_for, overdue_flagged_for FROM tracked_tasks"))}
    command.downgrade(alembic_config(scratch_url), "0014")
    engine.dispose()
    assert noted == {1: ("2025-06-30", "2025-06-30"), 2: ("2025-06-30", None), 3: (None, None)}
