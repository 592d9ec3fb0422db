"""Operations commands of `python -m engine`: export and import a whole database, check its consistency.

docs/operations.md says how they move a province from SQLite to PostgreSQL. A refused import (target not
empty, another revision, damaged file) exits with 2 and has written nothing.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.core.config import Config


def add_dump_commands(commands) -> None:
    """Add export, import and check to the CLI's subparsers."""
    export = commands.add_parser("export", help="write the whole database and its attached files to a dump file")
    export.add_argument("file", type=Path)
    export.set_defaults(run=_export)
    restore = commands.add_parser("import", help="restore a dump file into an empty database (DATABASE_URL)")
    restore.add_argument("file", type=Path)
    restore.set_defaults(run=_import)
    check = commands.add_parser("check", help="check that the query tables agree with the saved workflows")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(run=_check)


def _export(args) -> int:
    from engine.app.dump_export import export_database

    return _dump_command(export_database, args.file, "exported", "to")


def _import(args) -> int:
    from engine.app.dump_import import import_database

    return _dump_command(import_database, args.file, "imported", "from")


def _dump_command(use_case, path: Path, done: str, where: str) -> int:
    from engine.app.dump_format import DumpRefused

    config = Config.from_env()
    started = time.monotonic()
    try:
        report = use_case(config.database_url, config.attachments_dir, path)
    except DumpRefused as refused:
        print(f"{done.removesuffix('ed')} refused: {refused}", file=sys.stderr)
        return 2
    except OSError as error:   # the dump's folder missing, a full disk, an unreadable attachment
        print(f"error: {error.filename or path}: {error.strerror or error}", file=sys.stderr)
        return 1
    for digest in report.missing_files:
        print(f"warning: attachment {digest} is not in {config.attachments_dir}; dumped without it",
              file=sys.stderr)
    print(f"{done} {sum(report.rows.values())} rows of {len(report.rows)} tables and {report.files} files "
          f"{where} {path} ({path.stat().st_size} bytes) in {time.monotonic() - started:.1f} s")
    return 0


def _check(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.app.consistency import check_database

    ctx = open_context()
    try:
        report = check_database(ctx)
    finally:
        ctx.db.dispose()
    if args.json:
        print(json.dumps({"instances": report.instances, "consistent": not report.disagreements,
                          "disagreements": [d.as_dict() for d in report.disagreements]}, ensure_ascii=False))
    else:
        for item in report.disagreements:
            print(f"instance {item.instance_id}: {item.kind}: {item.detail}")
        print(f"checked {report.instances} instances: "
              + (f"{len(report.disagreements)} disagreements" if report.disagreements else "consistent"))
    return 1 if report.disagreements else 0
