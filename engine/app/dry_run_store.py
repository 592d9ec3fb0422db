"""Where dry runs live between requests: a folder per run with its throwaway SQLite database.

A run's folder is `<dry runs dir>/<database key>/<run id>/` holding `run.db` (the throwaway database),
`meta.json` (owner, process, instance, the run's clock, last use) and `lock` (one request of a run at a
time). The database key separates the runs of different real databases sharing a machine (test runs,
a staging copy). A run expires `EXPIRES_AFTER` after its last use; a user keeps at most `MAX_PER_USER`
live runs (starting another ends their least recently used one). Expired runs are swept whenever a run
starts, so the folder stays bounded without a background job.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from engine.core.config import ROOT
from engine.core.errors import NotFound

EXPIRES_AFTER = timedelta(hours=4)
MAX_PER_USER = 5
DEFAULT_DIR = ROOT / "var" / "dry-runs"
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{22}")


class DryRunNotFound(NotFound):
    """No live dry run with this id for this user (unknown, ended, expired, or someone else's)."""

    def __init__(self, run_id: str):
        super().__init__("dry_run_not_found", run=str(run_id)[:40])


@dataclass(frozen=True)
class RunMeta:
    """What a run remembers besides its database."""

    run_id: str
    owner: str
    process_id: str
    instance_id: int | None
    now: datetime          # the run's own clock
    used_at: datetime      # real time of the last request, for expiry

    def to_json(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["now"], data["used_at"] = self.now.isoformat(), self.used_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> RunMeta:
        """Read back what `to_json` wrote."""
        return cls(data["run_id"], data["owner"], data["process_id"], data["instance_id"],
                   datetime.fromisoformat(data["now"]), datetime.fromisoformat(data["used_at"]))


class RunStore:
    """The runs of one real database, in folders under `root`."""

    def __init__(self, root: Path, database_url: str):
        key = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        self.folder = Path(root) / key

    def database_url(self, run_id: str) -> str:
        """The SQLite URL of a run's throwaway database."""
        return f"sqlite:///{self._dir(run_id) / 'run.db'}"

    def create(self, owner: str, process_id: str, now: datetime, used_at: datetime) -> RunMeta:
        """A new empty run folder for `owner` (their oldest runs ended if over the limit)."""
        self.sweep(used_at)
        # Least recently used first; the meta file's time breaks ties (the clock may be a fixed one).
        mine = sorted((m for m in self._all() if m.owner == owner), key=lambda m: (m.used_at, self._touched(m.run_id)))
        for old in mine[:max(0, len(mine) - MAX_PER_USER + 1)]:
            self.delete(old.run_id)
        meta = RunMeta(secrets.token_urlsafe(16), owner, process_id, None, now, used_at)
        self._dir(meta.run_id).mkdir(parents=True)
        self.save(meta)
        return meta

    @contextlib.contextmanager
    def opened(self, run_id: str, owner: str, used_at: datetime) -> Iterator[RunMeta]:
        """A live run of `owner`, locked for the duration of the block; DryRunNotFound otherwise."""
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise DryRunNotFound(run_id)
        folder = self._dir(run_id)
        try:
            lock = open(folder / "lock", "a")  # noqa: SIM115 - closed below, after the unlock
        except FileNotFoundError:
            raise DryRunNotFound(run_id) from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            meta = self._read(run_id)
            if meta is None or meta.owner != owner or self._expired(meta, used_at):
                raise DryRunNotFound(run_id)  # someone else's run is not shown to exist either
            self.save(replace(meta, used_at=used_at))
            yield replace(meta, used_at=used_at)

    def save(self, meta: RunMeta) -> None:
        """Write a run's meta file (atomically: a reader never sees half of it)."""
        folder = self._dir(meta.run_id)
        temporary = folder / "meta.json.tmp"
        temporary.write_text(json.dumps(meta.to_json()), encoding="utf-8")
        temporary.replace(folder / "meta.json")

    def delete(self, run_id: str) -> None:
        """Remove a run's folder and everything in it."""
        shutil.rmtree(self._dir(run_id), ignore_errors=True)

    def sweep(self, now: datetime) -> int:
        """Delete the expired runs (and folders left half made); returns how many."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for folder in self.folder.iterdir():
            meta = self._read(folder.name)
            if meta is None or self._expired(meta, now):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def _all(self) -> list[RunMeta]:
        if not self.folder.is_dir():
            return []
        return [m for f in self.folder.iterdir() if (m := self._read(f.name)) is not None]

    def _read(self, run_id: str) -> RunMeta | None:
        try:
            return RunMeta.from_json(json.loads((self._dir(run_id) / "meta.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _touched(self, run_id: str) -> int:
        try:
            return (self._dir(run_id) / "meta.json").stat().st_mtime_ns
        except OSError:
            return 0

    def _dir(self, run_id: str) -> Path:
        return self.folder / run_id

    @staticmethod
    def _expired(meta: RunMeta, now: datetime) -> bool:
        return now - meta.used_at > EXPIRES_AFTER
