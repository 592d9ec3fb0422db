"""Template databases for the test fixtures: migrated, seeded and deployed once per run, copied per test.

Three levels, each built on the one before: `migrated` (the Alembic migrations, no rows), `seeded`
(`seed_reference_data` at the fixed clock) and `deployed` (the shipped diagrams deployed, as `shipped`
and `app` need them). A test gets the level its fixtures ask for (`level_for`).

SQLite: one template file per level and clock instant, copied into the test's tmp_path.

PostgreSQL: a template database named after the one TEST_DATABASE_URL names and this process
(`test_<pid>_tpl`) is migrated, seeded and deployed once; after each step its rows (COPY, binary) and
sequence positions are kept in memory. A few databases of the run (`test_<pid>_0`...) take turns: while a
test runs on one, background threads reset the others for the next tests, in the order the tests will
run: a database's connections are ended, every table is TRUNCATEd (new, empty files), the level's rows
are copied back in and the sequences set, so each test starts from the same files whatever ran before.
All of them are dropped at the end. Measured on this kind of machine, one test's database costs:
`CREATE DATABASE ... TEMPLATE` 25-400 ms plus 40-1000 ms to drop it (too slow even in the background
while other runs share the disk), TRUNCATE and copy back 60-300 ms (mostly waiting for the disk, so
three threads do it ahead), DELETE and copy back 10 ms (but dead rows and reused line pointers then
let the rows of an unordered query come back in an order that depends on the tests before).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import queue
import re
import shutil
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from engine.app.bootstrap import default_bpmn_files, open_context, seed_reference_data
from engine.app.migrations import upgrade
from engine.app.schema import metadata
from engine.core.clock import FixedClock
from engine.core.config import Config
from engine.process.definitions import deploy_files
from tests.helpers import TZ

PG_URL = os.environ.get("TEST_DATABASE_URL")
SEEDED_AT = datetime(2025, 4, 25, 9, 0, tzinfo=TZ)  # the `clock` fixture's instant: templates are made at it
LEVELS = ("migrated", "seeded", "deployed")
# Fixtures whose tests start from the shipped diagrams deployed (`shipped`, and `app` and `registered_task` on it).
DEPLOYED_FIXTURES = {"app", "shipped"}
POOL = 5  # PostgreSQL databases taking turns: the running test's and the next ones, reset ahead
WORKERS = 3  # threads resetting them: a reset mostly waits for the disk (new files), so they overlap


def backends():
    """The `database_url` parameters: SQLite always, PostgreSQL marked `postgres`."""
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


def level_for(fixturenames) -> str:
    """The template a test needs: `deployed` under `app`, `seeded` under `ctx`, else `migrated`."""
    names = set(fixturenames)
    if names & DEPLOYED_FIXTURES:
        return "deployed"
    return "seeded" if "ctx" in names else "migrated"


def build_level(url: str, level: str, at: datetime) -> None:
    """Bring a database one level up: migrate it, seed it, or deploy the shipped diagrams, at `at`."""
    if level == "migrated":
        upgrade(url)
        return
    ctx = open_context(Config(database_url=url, deploy_on_start=False, demo_data=True), FixedClock(at))  # demo123
    try:
        if level == "seeded":
            seed_reference_data(ctx)
        else:
            deploy_files(ctx, default_bpmn_files(ctx.config))
    finally:
        ctx.db.dispose()


class SqliteTemplates:
    """Template files per (level, instant), built on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._paths: dict[tuple[str, datetime], Path] = {}

    def path(self, level: str, at: datetime) -> Path:
        """The template file of a level (and the levels below it) made at `at`."""
        key = (level, at)
        if key not in self._paths:
            path = self.folder / f"{level}-{len(self._paths)}.db"
            index = LEVELS.index(level)
            if index:
                shutil.copyfile(self.path(LEVELS[index - 1], at), path)
            build_level(f"sqlite:///{path}", level, at)
            with contextlib.closing(sqlite3.connect(path)) as db:   # everything in the file, no -wal left
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._paths[key] = path
        return self._paths[key]

    def copy(self, level: str, at: datetime, target: Path) -> str:
        """Copy a template to `target`; returns its URL."""
        shutil.copyfile(self.path(level, at), target)
        return f"sqlite:///{target}"


@dataclass(frozen=True)
class Snapshot:
    """A level's rows (binary COPY of each non-empty table) and sequence positions."""

    rows: dict[str, bytes]
    setvals: str


class PostgresTemplates:
    """A template database next to TEST_DATABASE_URL's, and a few databases reset ahead of the tests.

    `plan` lists (test node id, level) of the PostgreSQL tests in the order they will run.
    """

    def __init__(self, url: str, at: datetime, plan: list[tuple[str, str]], size: int = POOL):
        self.url = make_url(url)
        self.prefix = f"{self.url.database}_{os.getpid()}"
        self._admin = self._connect(self.url.database)  # this thread's; each worker has its own
        self._drop_stale()
        self.template = f"{self.prefix}_tpl"
        self._create(self._admin, self.template)
        self.snapshots: dict[str, Snapshot] = {}
        for level in LEVELS:
            build_level(self._url_of(self.template), level, at)
            self.snapshots[level] = self._snapshot(self.template)
        self._tables = ", ".join(f'"{t}"' for t in self._table_names(self.template))
        self._admin.execute(f'ALTER DATABASE "{self.template}" ALLOW_CONNECTIONS false')
        self._pool = [f"{self.prefix}_{i}" for i in range(size)]
        for name in self._pool:
            self._create(self._admin, name, self.template)
        self._free: queue.Queue[str] = queue.Queue()
        for name in self._pool:
            self._free.put(name)
        self._closing = threading.Event()
        self._local = threading.local()
        self._worker_admins: list = []
        self._executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="test-databases")
        self._plan = plan
        self._index = {nodeid: i for i, (nodeid, _) in enumerate(plan)}
        self._futures: dict[int, Future] = {i: Future() for i in range(len(plan))}
        self._extra = itertools.count(1)
        # One thread hands the free databases out in the order of the plan (so that no test waits behind
        # a later one); the resets themselves run on the WORKERS threads.
        self._dispatcher = threading.Thread(target=self._dispatch, args=(list(self._futures.items()),),
                                            name="test-databases-dispatch", daemon=True)
        self._dispatcher.start()

    def take(self, nodeid: str, level: str) -> str:
        """A database for a test, at `level`: the one reset ahead for it, else one made now."""
        index = self._index.get(nodeid)
        future = self._futures.pop(index, None) if index is not None else None
        if future is not None:
            for earlier in [i for i in self._futures if i < index]:  # tests that never asked (skipped)
                self._futures.pop(earlier).add_done_callback(self._give_back)
            name = future.result()
            if self._plan[index][1] == level:
                return self._url_of(name)
            self._free.put(name)
        name = f"{self.prefix}_x{next(self._extra)}"  # not foreseen: a database of its own, dropped after
        self._create(self._admin, name, self.template)
        self._reset(self._admin, name, level)
        return self._url_of(name)

    def release(self, url: str) -> None:
        """The test is done with its database: back to the pool (reset in the background), or dropped."""
        name = make_url(url).database
        if name in self._pool:
            self._free.put(name)
        else:
            self._drop(self._admin, name)

    def close(self) -> None:
        """Drop every database of this run, template included."""
        self._closing.set()
        self._dispatcher.join()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for admin in self._worker_admins:
            admin.close()
        for name in [*self._pool, self.template]:
            self._drop(self._admin, name)
        self._admin.close()

    def _dispatch(self, futures: list[tuple[int, Future]]) -> None:
        for index, future in futures:
            while not self._closing.is_set():
                try:
                    name = self._free.get(timeout=0.2)
                except queue.Empty:
                    continue
                self._executor.submit(self._prepare, future, name, self._plan[index][1])
                break

    def _prepare(self, future: Future, name: str, level: str) -> None:
        try:
            if not hasattr(self._local, "admin"):
                self._local.admin = self._connect(self.url.database)
                self._worker_admins.append(self._local.admin)
            self._reset(self._local.admin, name, level)
        except BaseException as error:
            self._free.put(name)
            future.set_exception(error)
        else:
            future.set_result(name)

    def _give_back(self, future: Future) -> None:
        if future.exception() is None:
            self._free.put(future.result())

    def _reset(self, admin, name: str, level: str) -> None:
        """End the database's connections, empty every table (new files), copy the level's rows back."""
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        snapshot = self.snapshots[level]
        with self._connect(name, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")  # a test database: no need to wait for the disk
            cur.execute(f"TRUNCATE {self._tables}")
            for table, data in snapshot.rows.items():
                with cur.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                    copy.write(data)
            cur.execute(snapshot.setvals)

    def _snapshot(self, name: str) -> Snapshot:
        rows = {}
        with self._connect(name) as conn, conn.cursor() as cur:
            for table in self._table_names(name, conn):
                if cur.execute(f'SELECT EXISTS (SELECT FROM "{table}")').fetchone()[0]:
                    with cur.copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                        rows[table] = b"".join(bytes(chunk) for chunk in copy)
            sequences = [row[0] for row in cur.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")]
            positions = [cur.execute(f'SELECT last_value, is_called FROM "{s}"').fetchone() for s in sequences]
        setvals = ", ".join(f"setval('\"{s}\"', {value}, {str(called).lower()})"
                            for s, (value, called) in zip(sequences, positions, strict=True))
        return Snapshot(rows, f"SELECT {setvals}" if setvals else "SELECT 1")

    def _table_names(self, name: str, conn=None) -> list[str]:
        """The tables of the schema, parents before the tables that refer to them (COPY checks keys)."""
        with contextlib.ExitStack() as stack:
            conn = conn or stack.enter_context(self._connect(name))
            # alembic_version too: a test that sets the schema's revision back (tests/test_operations.py) must
            # not hand the next test a database that migrations would take for an old one.
            present = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        ordered = [t.name for t in metadata.sorted_tables if t.name in present]
        return ordered + sorted(present - set(ordered))

    def _url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _connect(self, name: str, autocommit: bool = True):
        conninfo = self.url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=autocommit)

    def _create(self, admin, name: str, template: str | None = None) -> None:
        self._drop(admin, name)
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    @staticmethod
    def _drop(admin, name: str) -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _drop_stale(self) -> None:
        """Drop what runs that died before their clean-up left (their process is gone)."""
        pattern = re.compile(rf"^{re.escape(self.url.database)}_(\d+)_")
        for (name,) in self._admin.execute("SELECT datname FROM pg_database").fetchall():
            match = pattern.match(name)
            if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
                self._drop(self._admin, name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
