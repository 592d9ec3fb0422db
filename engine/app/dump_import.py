"""`python -m engine import FILE`: restore a dump (engine/app/dump_format.py) into an empty database.

Every check that can refuse runs before anything is written, and the rows go in in one transaction:
a refused or damaged dump leaves the target as it was (a database without tables is first migrated to
the dump's revision, and stays so, empty). Tables are filled in foreign-key order, each by primary key,
in batches; a row pointing at a later row of its own table (a unit merged into a newer one) gets that
column once the table is in. PostgreSQL sequences are then set past the highest id.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Table, func, insert, inspect, select, update
from sqlalchemy import text as sql

from engine.app.dump_export import current_revision
from engine.app.dump_format import (
    BATCH,
    CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    DumpRefused,
    DumpReport,
    column_kind,
    decode_row,
    decoders,
)
from engine.app.migrations import head_revision, upgrade
from engine.app.schema import metadata
from engine.core.db import Database


def import_database(database_url: str, attachments_dir: Path, source: Path) -> DumpReport:
    """Restore the dump `source` into the empty database at `database_url`; DumpRefused if it cannot be."""
    with _opened(source) as archive:
        manifest = _manifest(archive)
        tables = _tables_of(manifest)
        db = Database(database_url)
        try:
            _migrate_if_bare(db, manifest["alembic_revision"])
            report = DumpReport()
            with _damage_refused(), db.engine.begin() as connection:
                _check_target(connection, manifest["alembic_revision"])
                for table, entry in tables:
                    report.rows[table.name] = _load_table(connection, archive, table, entry)
                if connection.dialect.name == "postgresql":
                    _set_sequences(connection)
                report.files = _restore_files(archive, manifest.get("attachments", []), Path(attachments_dir))
            return report
        finally:
            db.dispose()


@contextlib.contextmanager
def _opened(source: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(source)
    except FileNotFoundError:
        raise DumpRefused(f"{source}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise DumpRefused(f"{source}: not a dump or damaged ({error})") from None
    with archive:
        with _damage_refused():
            # Every member's checksum before anything is written: a damaged file changes nothing at all.
            broken = archive.testzip()
        if broken is not None:
            raise DumpRefused(f"{source}: damaged dump ({broken} does not match its checksum)")
        yield archive


@contextlib.contextmanager
def _damage_refused() -> Iterator[None]:
    # A damaged member shows only while it is read (bad CRC, bad deflate data, cut short).
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DumpRefused(f"damaged dump file ({error}); nothing was imported") from None


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        with _damage_refused():
            manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise DumpRefused("not a dump: it has no manifest.json") from None
    except ValueError as error:
        raise DumpRefused(f"damaged manifest.json: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DumpRefused("not a dump of this product (manifest format is not engine-dump)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DumpRefused(f"dump format version {manifest.get('format_version')} is not the one this code "
                          f"reads ({FORMAT_VERSION})")
    head = head_revision()
    if manifest.get("alembic_revision") != head:
        raise DumpRefused(f"the dump was written at migration revision {manifest.get('alembic_revision')}, "
                          f"this code is at {head}: import it with the code of its revision, then migrate")
    return manifest


def _tables_of(manifest: dict) -> list[tuple[Table, dict]]:
    """The tables to fill, in foreign-key order, each with its manifest entry; the dump must hold them all."""
    entries = {entry.get("name"): entry for entry in manifest.get("tables", [])}
    if set(entries) != set(metadata.tables):
        raise DumpRefused("the dump's tables are not this code's: "
                          + ", ".join(sorted(set(entries) ^ set(metadata.tables))))
    result = []
    for table in metadata.sorted_tables:
        entry = entries[table.name]
        if entry.get("columns") != [[column.name, column_kind(column)] for column in table.columns]:
            raise DumpRefused(f"the dump's columns of {table.name} are not this code's")
        result.append((table, entry))
    return result


def _migrate_if_bare(db: Database, revision: str) -> None:
    # A database without any table (a new PostgreSQL database) gets the schema, but not the seeded
    # reference rows that `python -m engine migrate` adds: those come from the dump.
    with db.engine.connect() as connection:
        bare = not inspect(connection).get_table_names()
    if bare:
        upgrade(db.url, revision)


def _check_target(connection: Connection, revision: str) -> None:
    found = current_revision(connection)
    if found != revision:
        raise DumpRefused(f"the target database is at migration revision {found}, the dump at {revision}")
    filled = [table.name for table in metadata.sorted_tables
              if connection.execute(select(1).select_from(table).limit(1)).first() is not None]
    if filled:
        raise DumpRefused("the target database is not empty (rows in " + ", ".join(filled)
                          + "): import only into a new database")


def _load_table(connection: Connection, archive: zipfile.ZipFile, table: Table, entry: dict) -> int:
    names = [column.name for column in table.columns]
    functions = decoders(table)
    own = _self_references(table)
    seen: set = set()
    later: list[tuple[object, str, object]] = []   # (primary key, column, value) set after the table is in
    count, batch = 0, []
    with _member(archive, entry.get("file")) as member:
        for line in member:
            row = decode_row(line, names, functions)
            if own:
                key = row[own[0][1]]
                for column, key_name in own:
                    if row[column] is not None and row[column] not in seen:
                        later.append((row[key_name], column, row[column]))
                        row[column] = None
                seen.add(key)
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(insert(table), batch)
                count, batch = count + len(batch), []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    for key, column, value in later:
        key_column = table.c[own[0][1]]
        connection.execute(update(table).where(key_column == key).values({column: value}))
    if count != entry.get("rows"):
        raise DumpRefused(f"damaged dump: {table.name} holds {count} rows, its manifest says {entry.get('rows')}")
    return count


def _member(archive: zipfile.ZipFile, name):
    try:
        return archive.open(str(name))
    except KeyError:
        raise DumpRefused(f"damaged dump: {name} is missing") from None


def _self_references(table: Table) -> list[tuple[str, str]]:
    """(column, primary key column) of each column pointing at the table's own single-column key."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        return []
    return [(fk.parent.name, keys[0].name) for fk in table.foreign_keys if fk.column.table is table]


def _set_sequences(connection: Connection) -> None:
    # Rows came with their ids: each sequence must continue after the highest, or the next insert collides.
    for table in metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not keys[0].autoincrement or column_kind(keys[0]) != "plain":
            continue
        sequence = connection.execute(sql("SELECT pg_get_serial_sequence(:t, :c)"),
                                      {"t": table.name, "c": keys[0].name}).scalar()
        if sequence is None:
            continue
        highest = connection.execute(select(func.max(keys[0]))).scalar()
        connection.execute(sql("SELECT setval(:s, :v, :called)"),
                           {"s": sequence, "v": highest or 1, "called": highest is not None})


def _restore_files(archive: zipfile.ZipFile, files: list[dict], folder: Path) -> int:
    # Content-addressed: a file already there is the same file. Written before the rows commit, so a
    # failure leaves at most unreferenced files behind, never a row without its file.
    written = 0
    for entry in files:
        digest = str(entry.get("sha256", ""))
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise DumpRefused(f"damaged dump: bad attachment name {digest!r}")
        path = folder / digest[:2] / digest
        if path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".import-")
        try:
            with os.fdopen(handle, "wb") as out, _member(archive, entry.get("file")) as member:
                while chunk := member.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
            if hasher.hexdigest() != digest:
                raise DumpRefused(f"damaged dump: attachment {digest} does not match its digest")
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        written += 1
    return written
