"""Plain helpers the test modules share, so that no test module imports another.

Fixtures that wrap them (`registered_task`, `shipped`) are in tests/conftest.py.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from engine.process import instances
from engine.process.steps import TaskView
from engine.regulation import tracking
from engine.regulation.records import Notification
from engine.regulation.tracking import DocumentInput, TaskInput

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BPMN = TESTS / "bpmn"


def run_cli(*args, database_url: str | None = None) -> subprocess.CompletedProcess:
    """`python -m engine ARGS` as a user runs it, on `database_url` when given; its output as text."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from the form on `path`."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str = "demo123"):
    """Sign a demo user in on a Flask test client through the sign-in form; returns the response."""
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


@dataclass(frozen=True)
class RegisteredTask:
    """What `register_task` made: the document, its one tracked task, the task's instance and first step."""

    document_id: int
    task_id: int
    instance_id: int
    step: TaskView


def register_task(ctx, *, number_symbol: str = "301/QĐ-UBND", issued_on: date = date(2025, 4, 20),
                  doc_type: str = "quyet_dinh", issuer: str = "UBND tỉnh Bến Tre",
                  signer: str = "Phó Chủ tịch UBND tỉnh", summary: str = "Cải cách hành chính",
                  content: str = "Rà soát thủ tục hành chính", lead_unit: str = "so-tu-phap",
                  expected_output: str = "Báo cáo", deadline: date | None = date(2025, 5, 30),
                  actor: str = "cv.hoa") -> RegisteredTask:
    """Register an assigning document with one task, as the Office does (the shipped diagrams deployed)."""
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol=number_symbol, issued_on=issued_on, doc_type=doc_type, issuer=issuer, signer=signer,
        summary=summary), [TaskInput(content=content, lead_unit=lead_unit, expected_output=expected_output,
                                     deadline=deadline)], actor=actor)
    instance_id = registered.instance_ids[0]
    return RegisteredTask(registered.document_id, registered.task_ids[0], instance_id,
                          instances.list_ready_tasks(ctx, instance_id=instance_id)[0])


def ready_tasks(ctx, instance_id: int) -> dict:
    """An instance's ready tasks by BPMN id."""
    return {t.bpmn_id: t for t in instances.list_ready_tasks(ctx, instance_id=instance_id)}


def complete_step(ctx, instance_id: int, bpmn_id: str, data: dict, actor: str = "tester"):
    """Complete an instance's ready task named by its BPMN id with the form data."""
    return instances.complete_task(ctx, instance_id, ready_tasks(ctx, instance_id)[bpmn_id].task_id, data,
                                   actor=actor)


def notice_recipients(ctx, kind: str) -> list[tuple]:
    """Whom the notifications of a kind went to, (unit code, role), oldest first."""
    with ctx.unit_of_work(readonly=True) as session:
        return [(n.unit_code, n.role) for n in session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id))]


def count_rows(ctx, model) -> int:
    """How many rows a table holds."""
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(model))


def register_tasks(ctx, n: int = 1) -> list[int]:
    """Register one document with `n` tasks of Sở Tư pháp; their instance ids."""
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol="77/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh", issuer="UBND tỉnh",
        signer="Chủ tịch", summary="Độ tin cậy"), [
        TaskInput(content=f"Việc {i}", lead_unit="so-tu-phap", expected_output="Báo cáo", deadline=date(2025, 12, 31))
        for i in range(n)], actor="cv.hoa")
    return registered.instance_ids


def failing_after_date(ctx, make_error, times: int = 1_000):
    """Make the diagram function `after_date` raise its first `times` calls once switched on, and while on.
    Installed before the script engine is built; switched on (`switch["on"] = True`) once the task is
    registered, whose review timers call it too, so that accepting the task (its work step's timers) fails."""
    real = ctx.functions["after_date"]
    switch = {"on": False, "calls": 0}

    def after_date(*args):
        if switch["on"]:
            switch["calls"] += 1
            if switch["calls"] <= times:
                raise make_error()
        return real(*args)

    ctx.functions = {**ctx.functions, "after_date": after_date}  # before the script engine is built
    return switch
