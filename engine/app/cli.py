"""Command line of the engine: migrate, deploy, validate.

Every failure a user can cause is printed as plain lines and an exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from engine.core.config import Config
from engine.core.errors import DeployRefused, EngineError, Unavailable


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return args.run(args) or 0
    except Unavailable as error:  # nothing was marked in error; what was not done can be done again
        print(f"error: {error} ({_first_line(error.__cause__ or error)})", file=sys.stderr)
        return 1
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        hint = " (is the schema up to date? run: python -m engine migrate)" if _schema_missing(error) else ""
        print(f"database error: {_first_line(error)}{hint}", file=sys.stderr)
        return 1


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _schema_missing(error) -> bool:
    # Only a missing table or column means the schema is behind (PostgreSQL 42P01, 42703; SQLite's words).
    orig = getattr(error, "orig", None)
    text = str(orig or error)
    return getattr(orig, "sqlstate", None) in ("42P01", "42703") or any(
        words in text for words in ("no such table", "no such column", "has no column named"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="BPMN engine commands")
    commands = parser.add_subparsers(title="commands")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    deploy = commands.add_parser("deploy", help="deploy BPMN files (default: every processes/*.bpmn)")
    deploy.add_argument("files", nargs="*", type=Path)
    deploy.add_argument("--actor", default="cli")
    deploy.set_defaults(run=_deploy)

    validate = commands.add_parser("validate", help="check BPMN files without deploying them")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(run=_validate)

    timers = commands.add_parser("timers", help="timer operations").add_subparsers(title="timer commands")
    fire = timers.add_parser("fire-due", help="fire every timer due by an instant (default: now)")
    fire.add_argument("--at", type=instant, help="ISO date-time, e.g. 2025-05-09T08:00+07:00")
    fire.set_defaults(run=_fire_due)

    worker = commands.add_parser("worker", help="run the timer worker until interrupted")
    worker.add_argument("--poll", type=float, default=2.0, help="seconds between passes (default 2)")
    worker.set_defaults(run=_worker)

    serve = commands.add_parser("serve", help="production: gunicorn web workers and timer workers")
    serve.add_argument("--web", type=int, help="web worker processes (default: WEB_WORKERS or 4)")
    serve.add_argument("--timers", type=int, help="timer worker processes (default: TIMER_WORKERS or 2)")
    serve.add_argument("--bind", help="address for gunicorn (default: BIND or 127.0.0.1:8000)")
    serve.set_defaults(run=_serve)

    from engine.app.cli_admin import add_admin_commands
    from engine.app.cli_dump import add_dump_commands
    from engine.app.cli_instances import add_instance_commands

    add_admin_commands(commands)
    add_instance_commands(commands)
    add_dump_commands(commands)
    return parser


def instant(text: str):
    """An ISO date-time argument; a naive one is Vietnam time."""
    from datetime import datetime

    from engine.worktime.calendar import TZ

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def _fire_due(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.core.clock import FixedClock
    from engine.process.schedules import fire_due_schedules
    from engine.process.timers import fire_due_timers

    ctx = open_context(clock=FixedClock(args.at) if args.at else None)
    report = fire_due_timers(ctx, actor="cli")
    for instance_id, bpmn_id in report.fired:
        print(f"instance {instance_id}: fired {bpmn_id}")
    for schedule_id, view in fire_due_schedules(ctx, actor="cli"):
        print(f"schedule {schedule_id}: started instance {view.id} ({view.process_id})")
    for instance_id, message in report.failed:
        print(f"instance {instance_id}: error: {message}", file=sys.stderr)
    print(f"fired {len(report.fired)}, failed {len(report.failed)}, skipped {report.skipped}")
    return 1 if report.failed else 0


def _worker(args) -> int:
    import signal
    import threading

    from engine.app.bootstrap import open_context
    from engine.app.worker import run_worker
    from engine.core import logs

    config = Config.from_env()
    logs.configure(config.log_format, config.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"timer worker polling every {args.poll}s; Ctrl-C to stop", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        run_worker(open_context(config), stop, args.poll)
    return 0


def _serve(args) -> int:
    import dataclasses
    import signal
    import threading

    from engine.app.serve import layout_from_env, serve
    from engine.core import logs

    config = Config.from_env()
    logs.configure(config.log_format, config.log_level)
    layout = layout_from_env()
    chosen = {"web_workers": args.web, "timer_workers": args.timers, "bind": args.bind}
    layout = dataclasses.replace(layout, **{k: v for k, v in chosen.items() if v is not None})
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return serve(layout, stop)


def _migrate(args) -> int:
    from engine.app.bootstrap import open_context, seed_reference_data
    from engine.app.migrations import upgrade

    upgrade(Config.from_env().database_url)
    added = seed_reference_data(open_context())
    print("database schema is up to date; seeded " + ", ".join(f"{n} {k}" for k, n in added.items()))
    return 0


def _deploy(args) -> int:
    from engine.app.bootstrap import default_bpmn_files, open_context
    from engine.process.definitions import deploy_bytes

    ctx = open_context()
    files = args.files or default_bpmn_files(ctx.config)
    failed = False
    for path in files:
        try:
            for result in deploy_bytes(ctx, _read(path), path.name, args.actor, path.parent / "forms"):
                state = "deployed as" if result.created else "unchanged, still"
                print(f"{path}: {result.process_id} {state} version {result.version}")
        except DeployRefused as refused:
            failed = True
            for problem in refused.problems:
                print(problem, file=sys.stderr)
        except OSError as error:
            failed = True
            print(f"{path}: cannot read: {error.strerror}", file=sys.stderr)
    return 1 if failed else 0


def _validate(args) -> int:
    from engine.app.bootstrap import diagram_function_names
    from engine.bpmn.validation import validate_bpmn

    failed = False
    for path in args.files:
        try:
            data = _read(path)
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror}")
            failed = True
            continue
        parsed, problems = validate_bpmn(data, str(path), functions=diagram_function_names(),
                                         max_bytes=Config.from_env().max_bpmn_bytes)
        for problem in problems:
            print(problem)
        failed = failed or bool(problems)
        if not problems:
            print(f"{path}: ok ({', '.join(d.process_id for d in parsed)})")
    return 1 if failed else 0


def _read(path: Path) -> bytes:
    return path.read_bytes()
