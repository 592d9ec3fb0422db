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
    try:
        return args.run(args) or 0
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
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
    return parser


def _migrate(args) -> int:
    from .migrations import upgrade

    upgrade(Config.from_env().database_url)
    print("database schema is up to date")
    return 0


def _deploy(args) -> int:
    from .bootstrap import default_bpmn_files, open_context
    from .definitions import deploy_bytes

    ctx = open_context()
    files = args.files or default_bpmn_files(ctx.config)
    failed = False
    for path in files:
        try:
            for result in deploy_bytes(ctx, _read(path), path.name, actor=args.actor):
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
        parsed, problems = validate_bpmn(data, str(path), functions=diagram_function_names())
        for problem in problems:
            print(problem)
        failed = failed or bool(problems)
        if not problems:
            print(f"{path}: ok ({', '.join(d.process_id for d in parsed)})")
    return 1 if failed else 0


def _read(path: Path) -> bytes:
    return path.read_bytes()
