"""`python -m engine instances ...`: list and inspect instances, retry one in error, start one by hand.

Split from engine/app/cli.py, which keeps the error handling every command shares: a failure prints
`error: <reason>` and exits 1, never a traceback.
"""
from __future__ import annotations

import json
import sys

STATUSES = ("running", "completed", "cancelled", "error", "suspended")


def add_instance_commands(commands) -> None:
    """Add the `instances` command group to the CLI's subparsers."""
    group = commands.add_parser("instances", help="process instances").add_subparsers(title="instance commands")
    listing = group.add_parser("list", help="the most recent instances, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(run=_list)
    show = group.add_parser("show", help="one instance: open tasks, timers, the reason it failed, history")
    show.add_argument("instance_id", type=int)
    show.set_defaults(run=_show)
    retry = group.add_parser("retry", help="run an instance in error again from the state it was saved in")
    retry.add_argument("instance_id", type=int)
    retry.add_argument("--to-latest", action="store_true",
                       help="move it to the newest deployed version of its process first")
    retry.add_argument("--by", default="cli", help="who retries (audited)")
    retry.set_defaults(run=_retry)
    start = group.add_parser("start", help="start a deployed process by hand")
    start.add_argument("process_id")
    start.add_argument("--data", default="{}", help='start data as a JSON object, e.g. {"unit": "so-tu-phap"}')
    start.add_argument("--by", default="cli", help="who starts it (audited)")
    start.set_defaults(run=_start)


def _list(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.process.instances import list_instances
    from engine.process.tables import InstanceStatus

    status = InstanceStatus(args.status) if args.status else None
    views = list_instances(open_context(), limit=args.limit, status=status)
    for view in views:
        print(f"{view.id}\t{view.process_id} v{view.definition_version}\t{view.status.value}\t"
              f"{view.updated_at:%Y-%m-%d %H:%M}\t{_one_line(view.error_message)}")
    print(f"{len(views)} instance(s)")
    return 0


def _show(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.process.recovery import instance_details

    details = instance_details(open_context(), args.instance_id)
    view = details.instance
    print(f"instance {view.id}: {view.process_id} version {view.definition_version}, {view.status.value} "
          f"(row_version {view.row_version})")
    print(f"started {view.created_at:%Y-%m-%d %H:%M} by {details.started_by}; updated {view.updated_at:%Y-%m-%d %H:%M}")
    if details.failure is not None:
        print(f"error: {details.failure['error']}")
        if details.failure["data"]:
            print(f"data submitted with the failed step: {json.dumps(details.failure['data'], ensure_ascii=False)}")
        print(f"after fixing the cause: python -m engine instances retry {view.id} [--to-latest]")
    print("ready tasks:" if details.ready else "ready tasks: none")
    for task in details.ready:
        due = f", due {task.due_at:%Y-%m-%d %H:%M}" if task.due_at else ""
        print(f"  {task.task_id} {task.bpmn_id} ({task.name or ''}) lane {task.lane or '-'}, "
              f"assignee {task.assignee or '-'}{due}")
    print("waiting timers:" if details.timers else "waiting timers: none")
    for bpmn_id, due_at in details.timers:
        print(f"  {bpmn_id} due {due_at:%Y-%m-%d %H:%M}")
    print("history:")
    for entry in details.history:
        print(f"  {entry.at:%Y-%m-%d %H:%M}\t{entry.actor}\t{entry.action}\t{entry.bpmn_id or ''}")
    return 0


def _retry(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.process.recovery import retry_instance

    view = retry_instance(open_context(), args.instance_id, args.by, to_latest=args.to_latest)
    print(f"instance {view.id}: {view.status.value} again on version {view.definition_version}{_ready(view)}")
    return 0


def _start(args) -> int:
    from engine.app.bootstrap import open_context
    from engine.process.instances import start_instance

    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as error:
        print(f"error: --data is not JSON: {error}", file=sys.stderr)
        return 1
    view = start_instance(open_context(), args.process_id, data, actor=args.by)
    print(f"instance {view.id}: {view.process_id} version {view.definition_version}, "
          f"{view.status.value}{_ready(view)}")
    return 0


def _ready(view) -> str:
    return "; ready: " + ", ".join(t.bpmn_id for t in view.next_tasks) if view.next_tasks else ""


def _one_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else ""
