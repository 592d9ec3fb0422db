"""Command line of the engine: migrate, deploy, validate.

Every failure a user can cause is printed as plain lines and an exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import Config
from .errors import DeployRefused, EngineError


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
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"database error: {cause} (is the schema up to date? run: python -m engine migrate)",
              file=sys.stderr)
        return 1


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
    fire.add_argument("--at", type=_instant, help="ISO date-time, e.g. 2025-05-09T08:00+07:00")
    fire.set_defaults(run=_fire_due)

    worker = commands.add_parser("worker", help="run the timer worker until interrupted")
    worker.add_argument("--poll", type=float, default=2.0, help="seconds between passes (default 2)")
    worker.set_defaults(run=_worker)

    settings = commands.add_parser("settings", help="timer settings").add_subparsers(title="settings commands")
    settings.add_parser("list", help="every timer setting").set_defaults(run=_settings_list)
    change = settings.add_parser("set", help="change a setting (timers armed from now on use it)")
    change.add_argument("name")
    change.add_argument("value", type=int)
    change.add_argument("--unit", choices=["working_days", "calendar_days", "hours", "minutes"])
    change.add_argument("--reason", required=True)
    change.add_argument("--by", required=True, help="who makes the change")
    change.set_defaults(run=_settings_set)
    rearm = settings.add_parser("rearm", help="preview (or --apply) the new value on waiting timers")
    rearm.add_argument("name")
    rearm.add_argument("--apply", action="store_true")
    rearm.add_argument("--by", default="cli")
    rearm.set_defaults(run=_settings_rearm)
    hist = settings.add_parser("history", help="the changes of one setting")
    hist.add_argument("name")
    hist.set_defaults(run=_settings_history)

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(title="token commands")
    issue = tokens.add_parser("issue", help="issue a bearer token acting for a user (printed once)")
    issue.add_argument("username")
    issue.add_argument("--name", required=True, help="what the token is for")
    issue.add_argument("--by", required=True)
    issue.set_defaults(run=_token_issue)
    revoke = tokens.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    revoke.add_argument("--by", required=True)
    revoke.set_defaults(run=_token_revoke)

    calendar = commands.add_parser("calendar", help="working-day calendar").add_subparsers(title="calendar commands")
    add = calendar.add_parser("add-working-days", help="print the date N working days after an event")
    add.add_argument("event", type=_instant)
    add.add_argument("n", type=int)
    add.set_defaults(run=_add_working_days)
    days_off = calendar.add_parser("days-off", help="list a year's days off and make-up working days")
    days_off.add_argument("year", type=int)
    days_off.set_defaults(run=_days_off)
    add_override = calendar.add_parser("add-override", help="record an announced day off or make-up day")
    add_override.add_argument("day", type=_day)
    add_override.add_argument("kind", choices=["day_off", "working_day"])
    add_override.add_argument("--reason", required=True)
    add_override.add_argument("--source", required=True, help="the announcing document, e.g. 12729/VPCP-KGVX")
    add_override.add_argument("--by", required=True)
    add_override.set_defaults(run=_add_override)
    remove_override = calendar.add_parser("remove-override", help="remove the override of a day")
    remove_override.add_argument("day", type=_day)
    remove_override.add_argument("--by", required=True)
    remove_override.set_defaults(run=_remove_override)
    return parser


def _token_issue(args) -> int:
    from . import api_tokens
    from .bootstrap import open_context

    issued = api_tokens.issue(open_context(), args.username, args.name, args.by)
    print(f"token {issued.id} for {issued.username} (shown once, keep it secret):")
    print(issued.token)
    return 0


def _token_revoke(args) -> int:
    from . import api_tokens
    from .bootstrap import open_context

    api_tokens.revoke(open_context(), args.token_id, args.by)
    print(f"token {args.token_id} revoked")
    return 0


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r}") from None


def _settings_list(args) -> int:
    from .bootstrap import open_context
    from .timer_settings import list_settings

    for setting, by, at in list_settings(open_context()):
        print(f"{setting.name}\t{setting.value} {setting.unit.value}\t{setting.legal_basis}\t{by} {at:%Y-%m-%d %H:%M}")
    return 0


def _settings_set(args) -> int:
    from .bootstrap import open_context
    from .timer_settings import change_setting

    setting = change_setting(open_context(), args.name, args.value, args.unit, args.by, args.reason)
    print(f"{setting.name} = {setting.value} {setting.unit.value}; waiting timers keep their due time "
          f"until: python -m engine settings rearm {setting.name} --apply")
    return 0


def _settings_rearm(args) -> int:
    from . import rearm
    from .bootstrap import open_context

    ctx = open_context()
    items = rearm.apply(ctx, args.name, args.by) if args.apply else rearm.preview(ctx, args.name)
    for item in items:
        print(f"instance {item.instance_id} ({item.process_id}) {item.bpmn_id}: "
              f"{item.old_due.isoformat()} -> {item.new_due.isoformat()}")
    print(f"{len(items)} timer(s) {'re-armed' if args.apply else 'would move (preview; --apply to re-arm)'}")
    return 0


def _settings_history(args) -> int:
    from .bootstrap import open_context
    from .timer_settings import history

    for change in history(open_context(), args.name):
        print(f"{change.changed_at:%Y-%m-%d %H:%M}\t{change.changed_by}\t{change.old_value} {change.old_unit.value}"
              f" -> {change.new_value} {change.new_unit.value}\t{change.reason}")
    return 0


def _add_override(args) -> int:
    from .bootstrap import open_context
    from .calendar_overrides import add_override

    view = add_override(open_context(), args.day, args.kind, args.reason, args.source, args.by)
    print(f"{view.day.isoformat()} {view.kind.value}: {view.reason} ({view.source})")
    return 0


def _remove_override(args) -> int:
    from .bootstrap import open_context
    from .calendar_overrides import remove_override

    remove_override(open_context(), args.day, args.by)
    print(f"{args.day.isoformat()}: override removed")
    return 0


def _instant(text: str):
    from datetime import datetime

    from .calendar import TZ

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date-time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


def _fire_due(args) -> int:
    from .bootstrap import open_context
    from .clock import FixedClock
    from .schedules import fire_due_schedules
    from .timers import fire_due_timers

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

    from .bootstrap import open_context
    from .timers import run_worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"timer worker polling every {args.poll}s; Ctrl-C to stop")
    try:
        run_worker(open_context(), stop, args.poll)
    except KeyboardInterrupt:
        pass
    return 0


def _calendar():
    from .bootstrap import open_context

    ctx = open_context()
    with ctx.unit_of_work(readonly=True) as session:
        return ctx.calendars.get(session)


def _add_working_days(args) -> int:
    print(_calendar().working_day_deadline(args.event, args.n).isoformat())
    return 0


def _days_off(args) -> int:
    for day in _calendar().days_off(args.year):
        kind = "nghỉ / day off" if day.kind.value == "day_off" else "làm bù / make-up working day"
        print(f"{day.day.isoformat()}\t{kind}\t{day.reason}\t{day.source}")
    return 0


def _migrate(args) -> int:
    from .bootstrap import open_context, seed_reference_data
    from .migrations import upgrade

    upgrade(Config.from_env().database_url)
    added = seed_reference_data(open_context())
    print("database schema is up to date; seeded " + ", ".join(f"{n} {k}" for k, n in added.items()))
    return 0


def _deploy(args) -> int:
    from .bootstrap import default_bpmn_files, open_context
    from .definitions import deploy_bytes

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
    from .bootstrap import diagram_function_names
    from .validation import validate_bpmn

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
