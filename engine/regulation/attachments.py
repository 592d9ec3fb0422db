"""Files attached to records (progress updates, feedback, ...), stored with size and type limits.

The bytes live on disk under their SHA-256 (<attachments_dir>/<ab>/<abcdef...>); the database row
names the file as the user gave it. The type is decided by the extension *and* checked against the
content, so a renamed executable or archive is refused whatever it is called.
"""
from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from engine.core import audit
from engine.core.errors import InvalidInput, NotFound
from engine.core.i18n import Number
from engine.regulation import access
from engine.regulation.access import Actor
from engine.regulation.organisation import Unit
from engine.regulation.records import Attachment, Document, Feedback, PeriodicReport, ProgressUpdate, TrackedTask

_OOXML, _ODF = "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument."
ALLOWED: dict[str, str] = {
    ".pdf": "application/pdf", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".docx": _OOXML + "wordprocessingml.document", ".xlsx": _OOXML + "spreadsheetml.sheet",
    ".odt": _ODF + "text", ".ods": _ODF + "spreadsheet",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".txt": "text/plain",
}
_OLE2, _ZIP, _JPEG = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"PK\x03\x04", b"\xff\xd8\xff"
_MAGIC = {".pdf": b"%PDF-", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": _JPEG, ".jpeg": _JPEG, ".doc": _OLE2,
          ".xls": _OLE2, ".docx": _ZIP, ".xlsx": _ZIP, ".odt": _ZIP, ".ods": _ZIP}
# A plain .zip also starts with PK: an office file must also hold the part that makes it one.
_OOXML_PART = {".docx": "word/document.xml", ".xlsx": "xl/workbook.xml"}
_MAX_NAME_CHARS = 200
# Files one record may carry at once: as many as one request may bring (web/__init__'s MAX_CONTENT_LENGTH).
MAX_FILES = 5
_CHUNK = 64 * 1024


class OwnerKind(str, enum.Enum):
    """Records that may carry attachments."""

    PROGRESS_UPDATE = "progress_update"
    DOCUMENT = "document"
    FEEDBACK = "feedback"
    PERIODIC_REPORT = "periodic_report"


_OWNER_TABLES = {OwnerKind.PROGRESS_UPDATE: ProgressUpdate, OwnerKind.DOCUMENT: Document,
                 OwnerKind.FEEDBACK: Feedback, OwnerKind.PERIODIC_REPORT: PeriodicReport}


class AttachmentRefused(InvalidInput):
    """A file was not stored; `reason` says why (catalog key "error.attachment.<reason>")."""

    code = "attachment_refused"

    def __init__(self, reason: str, **values):
        super().__init__(f"attachment.{reason}", allowed=", ".join(ALLOWED), **values)
        self.reason = reason

    @property
    def message(self) -> str:
        """The reason in Vietnamese."""
        return self.text("vi")

    @property
    def message_en(self) -> str:
        """The reason in English."""
        return self.text("en")


@dataclass(frozen=True)
class AttachmentView:
    """An attachment as screens and use cases see it."""

    id: int
    owner_kind: str
    owner_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check and is not stored yet: its kept name, extension and bytes."""

    name: str
    ext: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The name its bytes are kept under."""
        return hashlib.sha256(self.data).hexdigest()


def check(ctx, filename: str, stream: BinaryIO) -> CheckedFile:
    """Check one file (name, type, size, content) without storing anything; AttachmentRefused names it."""
    name = safe_filename(filename)
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED:
        raise AttachmentRefused("type_not_allowed", name=name, ext=ext or name)
    data = _read_at_most(stream, ctx.config.max_attachment_bytes + 1)
    _check(name, ext, data, ctx.config.max_attachment_bytes)
    return CheckedFile(name, ext, data)


def check_all(ctx, files: list[tuple[str, BinaryIO]]) -> list[CheckedFile]:
    """Check every file of one record before any is stored: the first refused one stops it all."""
    if len(files) > MAX_FILES:
        raise AttachmentRefused("too_many", count=len(files), max=MAX_FILES)
    return [check(ctx, filename, stream) for filename, stream in files]


def keep(ctx, checked: list[CheckedFile]) -> None:
    """Write the files' bytes to disk, before the transaction that names them (see store)."""
    for file in checked:
        _write_blob(ctx.config.attachments_dir, file.sha256, file.data)


def record(session, owner_kind: str, owner_id: int, file: CheckedFile, actor: str, now: datetime) -> AttachmentView:
    """Name a kept file against its owner, in the caller's transaction, audited."""
    kind = _owner_kind(owner_kind)
    row = Attachment(owner_kind=kind.value, owner_id=owner_id, filename=file.name, content_type=ALLOWED[file.ext],
                     size=len(file.data), sha256=file.sha256, uploaded_by=actor, uploaded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, at=row.uploaded_at, actor=actor, action="attachment_added",
                 summary={"attachment_id": row.id, "owner": f"{kind.value}:{owner_id}", "filename": file.name,
                          "size": row.size, "sha256": row.sha256})
    return _view(row)


def store(ctx, owner_kind: str, owner_id: int, filename: str, stream: BinaryIO, actor: str) -> AttachmentView:
    """Check a file, keep its bytes on disk and record it against its owner; AttachmentRefused says why not."""
    kind = _owner_kind(owner_kind)
    file = check(ctx, filename, stream)
    # The file is written before the transaction, so that (1) a slow disk never holds the database's
    # write lock and (2) a committed row always names a file already on disk. If the transaction then
    # fails, the file stays as an orphan: harmless, as a later upload of the same bytes reuses it and
    # a garbage collector may delete files that no row names and that were not touched for longer
    # than an upload can take (see _write_blob).
    keep(ctx, [file])
    with ctx.unit_of_work() as session:
        if session.get(_OWNER_TABLES[kind], owner_id) is None:
            raise NotFound("attachment_owner_not_found", kind=kind.value, owner=owner_id)
        return record(session, kind.value, owner_id, file, actor, ctx.now())


def open_attachment(ctx, attachment_id: int, actor: Actor | None = None) -> tuple[AttachmentView, BinaryIO]:
    """An attachment and its bytes opened for reading (the caller closes the file).

    With an actor, only one that may see the task it belongs to gets it: the check comes before
    the file is touched, and an attachment they may not see is NotFound, like an unknown one.
    """
    with ctx.unit_of_work(readonly=True) as session:
        row = session.get(Attachment, attachment_id)
        if row is None or (actor is not None and not _visible(session, actor, row)):
            raise NotFound("attachment_not_found", attachment=attachment_id)
        view = _view(row)
    return view, open(_blob_path(ctx.config.attachments_dir, view.sha256), "rb")


def _visible(session, actor: Actor, row: Attachment) -> bool:
    # Only progress updates' files are offered for download so far; they are seen with their task.
    if row.owner_kind != OwnerKind.PROGRESS_UPDATE.value:
        return False
    lead = session.execute(select(Unit.code).join(TrackedTask, TrackedTask.lead_unit_id == Unit.id)
                           .join(ProgressUpdate, ProgressUpdate.task_id == TrackedTask.id)
                           .where(ProgressUpdate.id == row.owner_id)).scalar()
    return lead is not None and access.may_see_unit(actor, lead)


def list_for(ctx, owner_kind: str, owner_id: int) -> list[AttachmentView]:
    """The attachments of one record, in upload order."""
    with ctx.unit_of_work(readonly=True) as session:
        return of_owners(session, owner_kind, [owner_id]).get(owner_id, [])


def of_owners(session, owner_kind: str, owner_ids: list[int]) -> dict[int, list[AttachmentView]]:
    """The attachments of several records of one kind (one query), by owner id, each in upload order."""
    found: dict[int, list[AttachmentView]] = {}
    if owner_ids:
        for row in session.scalars(select(Attachment).order_by(Attachment.id).where(
                Attachment.owner_kind == _owner_kind(owner_kind).value, Attachment.owner_id.in_(owner_ids))):
            found.setdefault(row.owner_id, []).append(_view(row))
    return found


def safe_filename(filename: str) -> str:
    """The name to keep: last path part only, no control or reserved characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", filename or "")   # Vietnamese letters composed, as typed
    name = re.split(r"[\\/]", name)[-1]                   # browsers on Windows may send C:\...\name
    # Category C: control, format (e.g. U+202E that shows "exe.pdf" as "fdp.exe"), surrogates, private use.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r'[<>:"|?*]', "_", name)               # reserved on Windows, where files get saved
    name = " ".join(name.split()).strip(" .")            # no hidden ".x", "..", or Windows' trailing dots
    stem, ext = os.path.splitext(name)
    if len(name) > _MAX_NAME_CHARS:
        stem = stem[:_MAX_NAME_CHARS - len(ext)].rstrip(" .")
        name = stem + ext
    if not stem:
        raise AttachmentRefused("unsafe_name", name=filename)
    return name


def _owner_kind(value) -> OwnerKind:
    try:
        return OwnerKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in OwnerKind)
        raise InvalidInput("attachment_owner_unknown", allowed=kinds, value=value) from None


def _read_at_most(stream: BinaryIO, count: int) -> bytes:
    # Never read past count: an oversized upload is refused after limit+1 bytes, not after all of it.
    buffer = bytearray()
    while len(buffer) < count:
        chunk = stream.read(min(_CHUNK, count - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _check(name: str, ext: str, data: bytes, limit: int) -> None:
    if not data:
        raise AttachmentRefused("empty", name=name)
    if len(data) > limit:
        raise AttachmentRefused("too_large", name=name, mb=Number(limit / 1_000_000))
    if ext == ".txt":
        try:
            valid = "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            valid = False
    else:
        valid = data.startswith(_MAGIC[ext]) and (_MAGIC[ext] != _ZIP or _is_office_zip(ext, data))
    if not valid:
        raise AttachmentRefused("content_mismatch", name=name, ext=ext)


def _is_office_zip(ext: str, data: bytes) -> bool:
    # Reads the zip's directory and one tiny stored member only: nothing is decompressed in bulk.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if ext in _OOXML_PART:
                return _OOXML_PART[ext] in archive.namelist()
            with archive.open("mimetype") as member:
                return member.read(100).decode("ascii", "replace").strip() == ALLOWED[ext]
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        return False


def _blob_path(root: Path, digest: str) -> Path:
    return Path(root) / digest[:2] / digest


def _write_blob(root: Path, digest: str, data: bytes) -> None:
    path = _blob_path(root, digest)
    if path.exists():  # same name, same bytes: never rewritten, only touched (see below)
        # A collector deletes unnamed files whose mtime is older than an upload takes; touching keeps
        # an orphan that this upload is about to name from looking old.
        os.utime(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # complete on disk before it gets its final name
        # Two uploads of the same bytes may race here: both renames put identical content in place.
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if os.name == "posix":  # the rename too must survive a crash before a row names the file
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(**{field.name: getattr(row, field.name) for field in fields(AttachmentView)})
