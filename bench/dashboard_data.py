"""A province's two years of tracked tasks, written by bulk insert, for the dashboard and heatmap benchmarks.

`build(url, tasks)` migrates a database, seeds the shipped organisation, deploys processes/*.bpmn, then adds
`tasks` tracked tasks assigned evenly over the two years before NOW with what the engine would have written
for each, row by row too slow to make through the use cases at 200,000 tasks:

- documents (one for every 4 tasks, a few document types), tracked_tasks led by departments, districts,
  communes, agencies and sub-units (weighted: a department leads more than a commune), 80% with a deadline
  15-120 days after assignment;
- an outcome per task: done after a lognormal time (median about 40 days) on time or late against its
  deadline, confirmed by the Office (completed_*), 3% cancelled, and what is not done by NOW is open
  (in progress, no deadline, 3% returned to the Office, 4% awaiting the Office's confirmation);
- urge_count 1-3 on tasks that ran past their deadline (half of them), progress updates (1-3 a task);
- one task_followup process instance per task (running, completed or cancelled) and its audit-log rows as the
  engine writes them: `start`, `complete_task` of review_receipt, `timer_fired` (the deadline reminder),
  `complete_task` of report_completion (report_completion_open without deadline; handle_return before it
  for a returned task), `complete_task` of confirm_completion, `cancel` for a cancelled one; each with
  its bpmn_id, a task id (uuid) and the actor of the lane (the unit's focal point, the Office's specialist).

Deterministic (a seeded random generator). SQLite: executemany in batches; PostgreSQL: COPY, then VACUUM
ANALYZE as autovacuum would. The heatmap benchmark reuses it: `build` returns the context, and
`FOLLOWUP_STEPS` names the steps whose audit rows are written.
"""
from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text

from engine.app.bootstrap import default_bpmn_files, open_context, seed_reference_data
from engine.app.migrations import upgrade
from engine.core.clock import FixedClock
from engine.core.config import Config
from engine.core.search_text import fold
from engine.process.definitions import deploy_files
from engine.process.tables import DefinitionVersion
from engine.regulation.organisation import Unit, UnitKind
from engine.worktime.calendar import TZ

NOW = datetime(2025, 4, 25, 9, 0, tzinfo=TZ)   # the tests' clock: a working Friday
FOLLOWUP_STEPS = ("review_receipt", "report_completion", "report_completion_open", "handle_return",
                  "confirm_completion")
_KIND_WEIGHT = {UnitKind.DEPARTMENT: 10, UnitKind.DISTRICT: 6, UnitKind.OTHER_AGENCY: 4, UnitKind.SUB_UNIT: 1,
                UnitKind.COMMUNE: 1}
_DOC_TYPES = ("quyet_dinh", "cong_van", "ke_hoach", "thong_bao_ket_luan", "chi_thi")
_SUBJECTS = ("Triển khai kế hoạch chuyển đổi số", "Rà soát thủ tục hành chính", "Báo cáo tình hình giải ngân vốn",
             "Xử lý kiến nghị cử tri", "Kiểm tra công tác phòng cháy", "Tổng hợp số liệu đất đai",
             "Đề xuất phương án xây dựng trường học", "Kiện toàn tổ công tác")
_BATCH = 20_000


def build(url: str, tasks: int, seed: int = 14):
    """A context (fixed clock at NOW) on `url`, migrated, seeded, deployed and holding `tasks` tracked tasks."""
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False, demo_data=True), FixedClock(NOW))
    seed_reference_data(ctx)
    deploy_files(ctx, default_bpmn_files(ctx.config))
    fill(ctx, tasks, seed)
    return ctx


def fill(ctx, tasks: int, seed: int = 14, now: datetime = NOW) -> None:
    """Add `tasks` tracked tasks assigned over the two years before `now`, with their history, to a seeded,
    deployed and otherwise empty database (ids are given here)."""
    with ctx.unit_of_work(readonly=True) as session:
        units = [(u.id, u.code, UnitKind(u.kind)) for u in session.scalars(select(Unit).order_by(Unit.id))
                 if UnitKind(u.kind) in _KIND_WEIGHT]
        definition = session.execute(select(DefinitionVersion.id).where(
            DefinitionVersion.process_id == "task_followup").order_by(DefinitionVersion.id.desc())).scalar()
    url = ctx.config.database_url
    _load(ctx, url, _Plan(random.Random(seed), tasks, units, definition, now))
    if url.startswith("postgresql"):
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


class _Plan:
    """The rows of every table, made task by task with ids given here (the tables start empty)."""

    def __init__(self, rng: random.Random, tasks: int, units, definition_id: int, now: datetime):
        self.rng, self.tasks, self.definition_id = rng, tasks, definition_id
        self.now, self.start = now, now - timedelta(days=730)
        self.units = units
        self.weights = [_KIND_WEIGHT[kind] for _, _, kind in units]
        self.rows: dict[str, list[tuple]] = {name: [] for name in _COLUMNS}

    def make(self):
        """Yield (table, rows) batches; each task's rows are made together."""
        per_document = 4
        for n in range(self.tasks):
            if n % per_document == 0:
                self._document(n // per_document + 1, n)
            self._task(n + 1, n // per_document + 1, n)
            if len(self.rows["audit_log"]) >= _BATCH:
                yield from self._flush()
        yield from self._flush()

    def _flush(self):
        for name in _COLUMNS:  # in foreign-key order
            if self.rows[name]:
                yield name, self.rows[name]
                self.rows[name] = []

    def _at(self, n: int) -> datetime:
        return self.start + timedelta(seconds=(self.now - self.start).total_seconds() * n / self.tasks
                                      + self.rng.random() * 600)

    def _document(self, doc_id: int, n: int) -> None:
        at = self._at(n)
        number, summary = f"{doc_id}/{self.rng.choice(('QĐ', 'CV', 'KH', 'TB'))}-UBND", self.rng.choice(_SUBJECTS)
        self.rows["documents"].append((doc_id, number, at.astimezone(TZ).date(), self.rng.choice(_DOC_TYPES),
                                       "UBND tỉnh Bến Tre", "Chủ tịch UBND tỉnh", summary, "cv.hoa", at,
                                       fold(f"{number} {summary}")))
        self.rows["audit_log"].append((at, "cv.hoa", "document_registered", None, None, None, "{}"))

    def _task(self, task_id: int, doc_id: int, n: int) -> None:
        rng = self.rng
        unit_id, unit_code, _ = rng.choices(self.units, self.weights)[0]
        assigned = self._at(n) + timedelta(minutes=5)
        day = assigned.astimezone(TZ).date()
        deadline = day + timedelta(days=rng.randint(15, 120)) if rng.random() < 0.8 else None
        took = timedelta(days=min(400.0, math.exp(rng.gauss(math.log(40), 0.7))))
        done = assigned + took
        focal, roll = f"dm.{unit_code}", rng.random()
        if roll < 0.03 and done < self.now:
            status, completed = "cancelled", done
        elif done < self.now:
            completed = done
            status = ("completed_no_deadline" if deadline is None else
                      "completed_on_time" if done.astimezone(TZ).date() <= deadline else "completed_late")
        else:
            completed = None
            status = ("returned" if roll < 0.06 else "awaiting_confirmation" if roll < 0.10 else
                      "no_deadline" if deadline is None else "in_progress")
        late = deadline is not None and (completed or self.now).astimezone(TZ).date() > deadline
        urges = rng.randint(1, 3) if late and rng.random() < 0.5 else 0
        content = f"{rng.choice(_SUBJECTS)} (nhiệm vụ {task_id})"
        instance = "running" if completed is None else "cancelled" if status == "cancelled" else "completed"
        self.rows["process_instances"].append((task_id, self.definition_id, "task_followup", instance, "{}",
                                               "cv.hoa", assigned, completed or assigned, completed, 1))
        self.rows["tracked_tasks"].append((task_id, doc_id, content, unit_id, deadline, None if deadline else
                                           "monthly", "Báo cáo kết quả", task_id, status, urges, assigned,
                                           completed, fold(content)))
        end = completed or self.now
        for k in range(rng.randint(1, 3)):
            at = assigned + (end - assigned) * (k + 1) / 4
            self.rows["progress_updates"].append((task_id, unit_id, "in_progress", "Đã triển khai một phần",
                                                  f"{at.astimezone(TZ):%Y-M%m}", focal, at))
        self._history(task_id, assigned, deadline, completed, status, focal, end)

    def _history(self, instance: int, assigned, deadline, completed, status, focal, end) -> None:
        rng, log = self.rng, self.rows["audit_log"]

        def step(at, actor, action, bpmn_id=None):
            if at < self.now:
                log.append((at, actor, action, instance, str(uuid.UUID(int=rng.getrandbits(128))) if bpmn_id
                            else None, bpmn_id, "{}"))

        step(assigned, "cv.hoa", "start")
        received = assigned + (end - assigned) * rng.uniform(0.02, 0.15)
        step(received, focal, "complete_task", "review_receipt")
        if deadline is not None:
            step(datetime.combine(deadline - timedelta(days=3), datetime.min.time(), TZ), "timer", "timer_fired")
        if status == "returned":
            step(received + (end - received) / 3, focal, "complete_task", "handle_return")
        reported = received + (end - received) * rng.uniform(0.6, 0.95)
        if status == "cancelled":
            step(completed, "cv.hoa", "cancel")
            return
        if completed is not None or status == "awaiting_confirmation":
            step(reported, focal, "complete_task", "report_completion" if deadline else "report_completion_open")
        if completed is not None:
            step(completed, "ld.vanphong", "complete_task", "confirm_completion")


_COLUMNS = {
    "documents": ("id", "number_symbol", "issued_on", "doc_type", "issuer", "signer", "summary", "registered_by",
                  "registered_at", "search_text"),
    "process_instances": ("id", "definition_id", "process_id", "status", "state_json", "started_by", "created_at",
                          "updated_at", "ended_at", "row_version"),
    "tracked_tasks": ("id", "document_id", "content", "lead_unit_id", "deadline", "update_cadence",
                      "expected_output", "instance_id", "status", "urge_count", "assigned_at", "completed_at",
                      "search_text"),
    "progress_updates": ("task_id", "unit_id", "state", "work_done", "period_key", "submitted_by",
                         "submitted_at"),
    "audit_log": ("at", "actor", "action", "instance_id", "task_id", "bpmn_id", "summary"),
}
_DEFAULTS = {"progress_updates": {"difficulties": "", "proposals": "", "report_document": ""}}


def _load(ctx, url: str, plan: _Plan) -> None:
    raw = ctx.db.engine.raw_connection()
    postgres = url.startswith("postgresql")
    try:
        cursor = raw.cursor()
        for table, rows in plan.make():
            columns = _COLUMNS[table] + tuple(_DEFAULTS.get(table, ()))
            extra = tuple(_DEFAULTS.get(table, {}).values())
            if postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + extra)
            else:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                   f"({', '.join('?' * len(columns))})", [_sqlite(row) + extra for row in rows])
        if postgres:  # ids were given: move the sequences past them, as inserts through the engine would
            for table in ("documents", "process_instances", "tracked_tasks"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))")
        raw.commit()
    finally:
        raw.close()


def _sqlite(row: tuple) -> tuple:
    # The formats the column types write on SQLite: naive UTC with microseconds, ISO dates.
    return tuple(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime)
                 else value.isoformat() if isinstance(value, date) else value for value in row)
