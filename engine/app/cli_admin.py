"""Admin commands of `python -m engine`: timer settings, the working-day calendar, API tokens, users.

Split from engine/app/cli.py, which keeps the engine's own commands (migrate, deploy, validate,
timers, worker) and the error handling every command shares.
"""
from __future__ import annotations

import argparse

from engine.app.cli import instant


def add_admin_commands(commands) -> None:
    """Add the settings, tokens, users and calendar command groups to the CLI's subparsers."""
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

    users = commands.add_parser("users", help="users' passwords and sessions").add_subparsers(title="user commands")
    password = users.add_parser("set-password", help="set a user's password, read from standard input "
                                                     "(its first line); their open sessions end")
    password.add_argument("username")
    password.add_argument("--by", default="cli", help="who sets it")
    password.set_defaults(run=_set_password)
    end = users.add_parser("end-sessions", help="end every session of a user: they must sign in again")
    end.add_argument("username")
    end.add_argument("--by", required=True)
    end.set_defaults(run=_end_sessions)

    calendar = commands.add_parser("calendar", help="working-day calendar").add_subparsers(title="calendar commands")
    add = calendar.add_parser("add-working-days", help="print the date N working days after an event")
    add.add_argument("event", type=instant)
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


def _token_issue(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.regulation import api_tokens

    issued = api_tokens.issue(open_context(), args.username, args.name, args.by)
    print(f"token {issued.id} for {issued.username} (shown once, keep it secret):")
    print(issued.token)
    return 0


def _token_revoke(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.regulation import api_tokens

    api_tokens.revoke(open_context(), args.token_id, args.by)
    print(f"token {args.token_id} revoked")
    return 0


def _set_password(args) -> int:
    import sys

    from engine.app.bootstrap import open_context
    from engine.regulation import access

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {args.username}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    access.set_password(open_context(), args.username, password, args.by)
    print(f"password of {args.username} set; their sessions were ended")
    return 0


def _end_sessions(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.regulation import access

    ended = access.end_sessions(open_context(), args.username, args.by)
    print(f"{ended} session(s) of {args.username} ended")
    return 0


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r}") from None


def _settings_list(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.worktime.timer_settings import list_settings

    for setting, by, at in list_settings(open_context()):
        print(f"{setting.name}\t{setting.value} {setting.unit.value}\t{setting.legal_basis}\t{by} {at:%Y-%m-%d %H:%M}")
    return 0


def _settings_set(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.worktime.timer_settings import change_setting

    setting = change_setting(open_context(), args.name, args.value, args.unit, args.by, args.reason)
    print(f"{setting.name} = {setting.value} {setting.unit.value}; waiting timers keep their due time "
          f"until: python -m engine settings rearm {setting.name} --apply")
    return 0


def _settings_rearm(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.process import rearm

    ctx = open_context()
    items = rearm.apply(ctx, args.name, args.by) if args.apply else rearm.preview(ctx, args.name)
    for item in items:
        print(f"instance {item.instance_id} ({item.process_id}) {item.bpmn_id}: "
              f"{item.old_due.isoformat()} -> {item.new_due.isoformat()}")
    print(f"{len(items)} timer(s) {'re-armed' if args.apply else 'would move (preview; --apply to re-arm)'}")
    return 0


def _settings_history(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.worktime.timer_settings import history

    for change in history(open_context(), args.name):
        print(f"{change.changed_at:%Y-%m-%d %H:%M}\t{change.changed_by}\t{change.old_value} {change.old_unit.value}"
              f" -> {change.new_value} {change.new_unit.value}\t{change.reason}")
    return 0


def _add_override(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.worktime.calendar_overrides import add_override

    view = add_override(open_context(), args.day, args.kind, args.reason, args.source, args.by)
    print(f"{view.day.isoformat()} {view.kind.value}: {view.reason} ({view.source})")
    return 0


def _remove_override(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.worktime.calendar_overrides import remove_override

    remove_override(open_context(), args.day, args.by)
    print(f"{args.day.isoformat()}: override removed")
    return 0


def _calendar():
    from engine.app.bootstrap import open_context

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
