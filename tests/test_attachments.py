"""Attachments: stored content-addressed on disk, limited in size and type, checked against their content."""
from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.core.audit import AuditEntry
from engine.core.errors import InvalidInput, NotFound
from engine.regulation import attachments
from engine.regulation.attachments import AttachmentRefused
from engine.regulation.records import Attachment, Document, DocumentType

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
LIMIT = 10_000


@pytest.fixture
def folder(ctx, tmp_path):
    """Attachments of this test go to their own folder, with a small size limit."""
    path = tmp_path / "attachments"
    ctx.config = dataclasses.replace(ctx.config, attachments_dir=path, max_attachment_bytes=LIMIT)
    return path


@pytest.fixture
def document_id(ctx):
    """An assigning document to attach files to."""
    with ctx.unit_of_work() as session:
        doc = Document(number_symbol="215/QĐ-UBND", issued_on=date(2025, 4, 18), doc_type=DocumentType.DECISION,
                       issuer="UBND tỉnh Bến Tre", signer="Phó Chủ tịch", summary="Giao nhiệm vụ",
                       registered_by="cv.hoa", registered_at=ctx.now())
        session.add(doc)
        session.flush()
        return doc.id


def _store(ctx, owner_id, name, content, actor="cv.hoa"):
    return attachments.store(ctx, "document", owner_id, name, io.BytesIO(content), actor)


def _files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _rows(ctx):
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(Attachment))


def _refused(ctx, owner_id, name, content) -> AttachmentRefused:
    with pytest.raises(AttachmentRefused) as refused:
        _store(ctx, owner_id, name, content)
    assert _rows(ctx) == 0
    return refused.value


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():  # ODF keeps "mimetype" uncompressed
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def test_a_pdf_is_stored_under_its_hash_and_read_back_identical(ctx, folder, document_id):
    view = _store(ctx, document_id, "Báo cáo tiến độ.pdf", PDF)
    assert (view.filename, view.content_type, view.size, view.uploaded_by) == \
        ("Báo cáo tiến độ.pdf", "application/pdf", len(PDF), "cv.hoa")
    assert _files(folder) == [folder / view.sha256[:2] / view.sha256]
    opened, stream = attachments.open_attachment(ctx, view.id)
    with stream:
        assert stream.read() == PDF
    assert opened == view and attachments.list_for(ctx, "document", document_id) == [view]
    with ctx.unit_of_work(readonly=True) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "attachment_added")).one()
    assert entry.actor == "cv.hoa" and entry.summary["attachment_id"] == view.id


def test_office_files_images_and_utf8_text_are_accepted(ctx, folder, document_id):
    odt_type = attachments.ALLOWED[".odt"]
    accepted = {
        "kế hoạch.docx": _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "số liệu.xlsx": _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
        "công văn.odt": _zip({"mimetype": odt_type.encode(), "content.xml": b"<office:document/>"}),
        "biên bản.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "ảnh.PNG": b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
        "ảnh.jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 50,
        "ghi chú.txt": "Đã hoàn thành 80% khối lượng công việc.\n".encode(),
    }
    views = [_store(ctx, document_id, name, content) for name, content in accepted.items()]
    assert [v.content_type for v in views][-3:] == ["image/png", "image/jpeg", "text/plain"]
    assert views[2].content_type == odt_type and len(attachments.list_for(ctx, "document", document_id)) == 7


def test_an_oversized_file_is_refused_without_reading_it_all(ctx, folder, document_id):
    class Guarded(io.RawIOBase):
        """A 1 GB stream that fails the test if read past the limit + 1 byte."""

        def __init__(self):
            self.position = 0

        def read(self, size=-1):
            assert size is not None and size >= 0, "read everything"
            self.position += size
            assert self.position <= LIMIT + 1, f"read {self.position} bytes"
            return (PDF + b"0" * size)[:size]

    stream = Guarded()
    with pytest.raises(AttachmentRefused) as refused:
        attachments.store(ctx, "document", document_id, "big.pdf", stream, "cv.hoa")
    assert refused.value.reason == "too_large" and stream.position == LIMIT + 1
    assert "0,01 MB" in refused.value.message and "0.01 MB" in refused.value.message_en
    assert _files(folder) == [] and _rows(ctx) == 0


def test_a_file_of_exactly_the_limit_is_accepted(ctx, folder, document_id):
    assert _store(ctx, document_id, "vừa đủ.pdf", PDF + b"0" * (LIMIT - len(PDF))).size == LIMIT


@pytest.mark.parametrize("name", ["setup.exe", "hồ sơ.zip", "script.js", "no_extension", "page.html"])
def test_types_not_allowed_are_refused_with_the_list_of_allowed_ones(ctx, folder, document_id, name):
    refused = _refused(ctx, document_id, name, PDF)
    assert refused.reason == "type_not_allowed"
    assert "Chỉ nhận" in refused.message and ".pdf, .doc" in refused.message and ".docx" in refused.message_en


@pytest.mark.parametrize("name, content", [
    ("báo cáo.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100),     # a Windows executable
    ("kế hoạch.docx", _zip({"payload.exe": b"MZ\x90\x00"})),                  # a plain archive
    ("số liệu.ods", _zip({"mimetype": b"application/zip"})),
    ("ảnh.png", PDF),
    ("ghi chú.txt", b"MZ\x00\x00binary"),                                      # NUL: not text
    ("ghi chú.txt", "Báo cáo".encode("cp1258")),                               # not UTF-8
])
def test_content_that_does_not_match_its_extension_is_refused(ctx, folder, document_id, name, content):
    refused = _refused(ctx, document_id, name, content)
    assert refused.reason == "content_mismatch" and "đổi tên" in refused.message
    assert _files(folder) == []


def test_an_empty_file_is_refused(ctx, folder, document_id):
    refused = _refused(ctx, document_id, "trống.pdf", b"")
    assert refused.reason == "empty" and "rỗng" in refused.message and "empty" in refused.message_en


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\hoa\\Desktop\\Báo cáo quý I.pdf", "Báo cáo quý I.pdf"),
    ("Ba\u0301o ca\u0301o.pdf", "Báo cáo.pdf"),                     # decomposed accents are composed
    ("bad\x00name\r\n.pdf", "badname.pdf"),
    ("invoice\u202efdp.exe.pdf", "invoicefdp.exe.pdf"),               # no right-to-left override
    ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
    ("  .hidden.pdf  ", "hidden.pdf"),
    ("ơ" * 300 + ".pdf", "ơ" * 196 + ".pdf"),
])
def test_file_names_are_sanitised(ctx, folder, document_id, given, kept):
    view = _store(ctx, document_id, given, PDF)
    assert view.filename == kept and len(view.filename) <= 200
    assert all(folder in path.parents for path in _files(folder))


@pytest.mark.parametrize("name", ["", "..", "../", "/etc/", " . "])
def test_names_with_nothing_left_are_refused(ctx, folder, document_id, name):
    assert _refused(ctx, document_id, name, PDF).reason == "unsafe_name"


def test_the_same_content_twice_is_one_file_and_two_rows(ctx, folder, document_id):
    first = _store(ctx, document_id, "bản 1.pdf", PDF)
    blob = folder / first.sha256[:2] / first.sha256
    written = blob.stat().st_ino
    second = _store(ctx, document_id, "bản 2.pdf", PDF, actor="cv.minh")
    assert first.sha256 == second.sha256 and first.id != second.id
    assert _files(folder) == [blob] and blob.stat().st_ino == written   # not replaced
    assert [v.filename for v in attachments.list_for(ctx, "document", document_id)] == ["bản 1.pdf", "bản 2.pdf"]


def test_a_database_failure_after_the_file_write_leaves_no_row(ctx, folder, document_id, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(attachments.audit, "record", broken)
    with pytest.raises(RuntimeError):
        _store(ctx, document_id, "báo cáo.pdf", PDF)
    assert _rows(ctx) == 0
    assert len(_files(folder)) == 1   # an orphan, reused by the next upload of the same bytes
    monkeypatch.undo()
    view = _store(ctx, document_id, "báo cáo.pdf", PDF)
    assert _files(folder) == [folder / view.sha256[:2] / view.sha256]


def test_unknown_owners_and_ids_are_refused(ctx, folder, document_id):
    with pytest.raises(NotFound):
        _store(ctx, document_id + 1000, "báo cáo.pdf", PDF)
    with pytest.raises(InvalidInput):
        attachments.store(ctx, "users", 1, "báo cáo.pdf", io.BytesIO(PDF), "cv.hoa")
    with pytest.raises(NotFound):
        attachments.open_attachment(ctx, 12345)
    assert attachments.list_for(ctx, "document", document_id) == [] and _rows(ctx) == 0
