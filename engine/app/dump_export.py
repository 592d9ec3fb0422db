"""`python -m engine export FILE`: write every table of a database, and the attached files, to a dump.

The whole dump is read in one transaction, so it is one consistent moment of the database even while
workers write (PostgreSQL: REPEATABLE READ; SQLite: one read transaction over the WAL). Rows are fetched
and written in batches: a large database never sits in memory.
"""
from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, inspect, select
from sqlalchemy import text as sql

from engine.app.dump_format import (
    BATCH,
    CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    DumpRefused,
    DumpReport,
    attachment_file,
    column_kind,
    encode_row,
    encoders,
    selected,
    table_file,
)
from engine.app.migrations import head_revision
from engine.app.schema import metadata
from engine.core.db import Database


def export_database(database_url: str, attachments_dir: Path, target: Path) -> DumpReport:
    """Write the database at `database_url` and its attachments to the dump file `target`."""
    report = DumpReport()
    partial = target.with_name(target.name + ".partial")
    db = Database(database_url)
    try:
        with db.engine.connect() as connection, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ",
                                                          postgresql_readonly=True)
            else:
                connection = connection.execution_options(readonly=True)  # a deferred BEGIN: never waits
            with connection.begin():
                revision = _revision_of(connection)
                tables = [_write_table(connection, archive, table, report) for table in metadata.sorted_tables]
                digests = _attachment_digests(connection)
            files = [_write_file(archive, attachments_dir, digest, report) for digest in digests]
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "alembic_revision": revision,
                        "created_at": datetime.now(UTC).isoformat(), "source_dialect": connection.dialect.name,
                        "tables": tables, "attachments": [f for f in files if f is not None]}
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        os.replace(partial, target)  # a dump that failed half-way is never left under the name asked for
    finally:
        partial.unlink(missing_ok=True)
        db.dispose()
    return report


def current_revision(connection: Connection) -> str:
    """The Alembic revision the database is at; DumpRefused when it was never migrated."""
    revisions = []
    if inspect(connection).has_table("alembic_version"):
        revisions = connection.execute(sql("SELECT version_num FROM alembic_version")).scalars().all()
    if len(revisions) != 1:
        raise DumpRefused("the database has no migration revision: run python -m engine migrate first")
    return revisions[0]


def _revision_of(connection: Connection) -> str:
    # The tables are read as this code describes them, so the database must be at this code's revision.
    found, head = current_revision(connection), head_revision()
    if found != head:
        raise DumpRefused(f"the database is at migration revision {found}, this code at {head}: "
                          "run python -m engine migrate first")
    return found


def _write_table(connection: Connection, archive: zipfile.ZipFile, table, report: DumpReport) -> dict:
    functions = encoders(table)
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH).execute(select(*selected(table)).order_by(*order))
    count = 0
    with archive.open(table_file(table.name), "w", force_zip64=True) as member:
        for rows in result.partitions():
            member.write(b"".join(encode_row(row, functions) for row in rows))
            count += len(rows)
    report.rows[table.name] = count
    return {"name": table.name, "file": table_file(table.name), "rows": count,
            "columns": [[column.name, column_kind(column)] for column in table.columns]}


def _attachment_digests(connection: Connection) -> list[str]:
    table = metadata.tables.get("attachments")
    if table is None:
        return []
    return list(connection.execute(select(table.c.sha256).distinct().order_by(table.c.sha256)).scalars())


def _write_file(archive: zipfile.ZipFile, folder: Path, digest: str, report: DumpReport) -> dict | None:
    path = Path(folder) / digest[:2] / digest   # engine/regulation/attachments.py keeps them so
    if not path.is_file():
        report.missing_files.append(digest)
        return None
    with path.open("rb") as source, archive.open(attachment_file(digest), "w", force_zip64=True) as member:
        size = 0
        while chunk := source.read(CHUNK):
            member.write(chunk)
            size += len(chunk)
    report.files += 1
    return {"sha256": digest, "file": attachment_file(digest), "size": size}
