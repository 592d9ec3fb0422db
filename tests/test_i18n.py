"""One catalog for every user-facing text (engine/core/messages): complete in Vietnamese and English,
the same parameters in both, and every key the code and the templates use is in it (found by reading
the sources). Then the behaviour: errors carry keys, notifications and labels follow the reader."""
from __future__ import annotations

import ast
import io
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.core import i18n
from engine.core.errors import InvalidInput, NotFound
from engine.core.i18n import Number
from engine.process.tables import InstanceStatus
from engine.read.inbox import InboxCategory
from engine.read.report_queries import ReportState
from engine.regulation import access, notifications, statistics, tracking
from engine.regulation.notifications import NotificationKind
from engine.regulation.organisation import UnitKind
from engine.regulation.records import DocumentType, FeedbackOutcome, Notification, ProgressState, TaskStatus
from engine.worktime.periods import Cadence, period_from_key
from tests.helpers import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[1]
CATALOG = i18n.catalog()
LABELLED = (InboxCategory, TaskStatus, ProgressState, FeedbackOutcome, NotificationKind, Cadence, UnitKind,
            ReportState, InstanceStatus, DocumentType)
# Calls whose first argument is a message key, and the prefix the key gets in the catalog.
ERROR_CLASSES = ("EngineError", "NotFound", "Conflict", "InvalidInput", "ClassifiedDocumentRefused")
KEY_CALLS = {**{name: "error." for name in ERROR_CLASSES}, "AttachmentRefused": "error.attachment.",
             "Message": "", "text": "", "translate": "", "_": "", "_msg": "form."}
# Errors whose text is technical on purpose (a diagram author's or an analyst's), not from the catalog.
TECHNICAL = ("DiagramError", "DeployRefused", "TechnicalError")


def test_every_text_is_given_in_vietnamese_and_english_with_the_same_parameters():
    assert len(CATALOG) > 300
    for key, texts in CATALOG.items():
        assert set(texts) == {"vi", "en"}, key
        assert all(isinstance(t, str) and t.strip() for t in texts.values()), key
        assert i18n.placeholders(texts["vi"]) == i18n.placeholders(texts["en"]), key


def _python_sources():
    for folder in ("engine", "web"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def _name(func) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _constants(node) -> list[str] | None:
    """The string constants an argument can be (both branches of `a if c else b`); None if not constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        both = (_constants(node.body), _constants(node.orelse))
        return None if None in both else both[0] + both[1]
    return None


def _used_keys():
    """(key, where) for every message key the Python sources name, and (where) for every error built
    from a literal text instead of a key."""
    keys, literal = [], []
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        error_classes = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                         and any(_name(base) in ERROR_CLASSES + ("AttachmentRefused",) for base in node.bases)}
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name in error_classes):
            for call in (n for n in ast.walk(cls) if isinstance(n, ast.Call) and _name(n.func) == "__init__"):
                for key in _constants(call.args[0]) or [] if call.args else []:
                    keys.append(("error." + key, f"{path.name}:{call.lineno}"))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name, where = _name(call.func), f"{path.relative_to(ROOT)}:{call.lineno}"
            if name == "text" and isinstance(call.func, ast.Attribute) and _name(call.func.value) != "i18n":
                continue  # error.text(lang), message.text(lang): a method, not the catalog's text()
            args = call.args[1:] if name == "forbid_unless" else call.args
            prefix = "error." if name == "forbid_unless" else KEY_CALLS.get(name)
            if prefix is not None and args:
                found = _constants(args[0])
                if found is not None:
                    keys += [(prefix + key, where) for key in found]
                elif name in ERROR_CLASSES and isinstance(args[0], (ast.JoinedStr, ast.BinOp)):
                    literal.append(where)
            keys += [(kw.value.value, where) for kw in call.keywords
                     if kw.arg == "title_key" and isinstance(kw.value, ast.Constant)]
    return keys, literal


def test_every_key_the_engine_and_web_name_is_in_the_catalog_and_no_error_is_a_literal_text():
    keys, literal = _used_keys()
    assert len(keys) > 120  # the scan finds them (about 140 today)
    assert [(key, where) for key, where in keys if key not in CATALOG] == []
    assert literal == []


def test_every_key_the_templates_use_is_in_the_catalog():
    used, prefixes = [], []
    for path in sorted((ROOT / "web" / "templates").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        used += [(key, path.name) for key in re.findall(r"""\b_\(\s*['"]([^'"]+)['"]\s*[,)]""", source)]
        prefixes += [(prefix, path.name) for prefix in re.findall(r"""\b_\(\s*['"]([^'"]+)['"]\s*~""", source)]
        prefixes += [(ns + ".", path.name) for ns in re.findall(r"""\|label\(\s*['"]([^'"]+)['"]""", source)]
        assert not re.search(r"\b_\(\s*['\"][^'\"]*_['\"]\s*~", source), f"{path.name}: an old '<prefix>_' ~ key"
    assert len(used) > 100
    assert [(key, where) for key, where in used if key not in CATALOG] == []
    assert [(p, where) for p, where in prefixes if not any(k.startswith(p) for k in CATALOG)] == []


def test_templates_hold_no_text_of_their_own():
    # Words between tags must come from the catalog (units of measure and Jinja comments aside).
    for path in sorted((ROOT / "web" / "templates").glob("*.html")):
        source = re.sub(r"<style>.*?</style>|<script.*?</script>|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", path.read_text(
            encoding="utf-8"), flags=re.S)
        words = [w for chunk in re.findall(r">([^<]+)<", source) for w in re.findall(r"[^\W\d_]{2,}", chunk)
                 if w not in ("KB", "MB")]
        assert words == [], f"{path.name}: {words}"


def test_every_domain_value_has_a_label_and_every_notification_kind_its_texts():
    for enum_class in LABELLED:
        for member in enum_class:
            assert member.label_key in CATALOG, member
    for kind in NotificationKind:
        assert kind.title_key in CATALOG and (kind.body_key is None or kind.body_key in CATALOG), kind
    assert all(f"category.{c}" in CATALOG for c in statistics.CATEGORIES)
    assert all(f"period.{c.value}" in CATALOG for c in Cadence)


def test_a_text_is_filled_in_the_language_asked_with_nested_texts_and_numbers():
    assert i18n.text("error.unit_not_below", "en", unit="tt-ba-tri", lead="so-tu-phap") == \
        "'tt-ba-tri' is not below so-tu-phap"
    caption = period_from_key("2025-Q2").caption
    assert i18n.text("error.round_already_open", "vi", period=caption, key="2025-Q2").startswith(
        "kỳ báo cáo Quý II/2025 (2025-Q2)")
    assert "Quarter II/2025" in i18n.text("error.round_already_open", "en", period=caption, key="2025-Q2")
    assert Number(0.015).text("vi") == "0,015" and Number(20.0).text("en") == "20"
    assert i18n.text("app_title", "fr") == i18n.text("app_title", "vi")  # an unknown language: Vietnamese
    assert i18n.decode_params(i18n.encode_params({"p": caption, "n": 3})) == {"p": caption, "n": 3}


def test_an_unknown_key_gives_the_key_itself_and_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="engine.core.i18n"):
        assert i18n.text("no.such_key", "en") == "no.such_key"
    assert "no.such_key" in caplog.text


def test_an_error_carries_a_key_and_reads_in_vietnamese_unless_asked():
    error = InvalidInput("unit_not_below", unit="tt-ba-tri", lead="huyen-ba-tri")
    assert (error.key, error.params, error.code) == ("unit_not_below", {"unit": "tt-ba-tri", "lead": "huyen-ba-tri"},
                                                     "invalid_input")
    assert str(error) == "'tt-ba-tri' không trực thuộc huyen-ba-tri"
    assert error.text("en") == "'tt-ba-tri' is not below huyen-ba-tri"
    assert NotFound("tracked_task_not_found", task=7).text("en") == "no task 7"


def test_a_notification_keeps_its_parameters_and_is_shown_in_the_readers_language(shipped, registered_task):
    registered_task()
    focal = access.actor_named(shipped, "dm.sotuphap")
    [vi] = notifications.for_actor(shipped, focal)
    [en] = notifications.for_actor(shipped, focal, lang="en")
    assert vi.kind is NotificationKind.TASK_READY and vi.title == "Rà soát, tiếp nhận nhiệm vụ"
    assert en.title == "New task: Rà soát, tiếp nhận nhiệm vụ"
    with shipped.unit_of_work(readonly=True) as session:
        row = session.scalar(select(Notification))
        assert (row.title, row.params) == ("Rà soát, tiếp nhận nhiệm vụ", {"task": "Rà soát, tiếp nhận nhiệm vụ"})
    with shipped.unit_of_work() as session:  # a row written before parameters were kept
        session.execute(update(Notification).values(params=None, title="Việc cũ"))
    assert notifications.for_actor(shipped, focal, lang="en")[0].title == "Việc cũ"


def test_a_templated_body_and_a_variant_title_follow_the_reader_too(ctx):
    with ctx.unit_of_work() as session:
        notifications.notify(session, kind=NotificationKind.REPORT_LATE, now=ctx.now(), role="tracking_specialist",
                             title_key="notification.report_late.title_office",
                             params={"unit": "Sở Tư pháp", "period": period_from_key("2025-Q2").caption,
                                     "due": "19/06/2025"})
        row = session.scalar(select(Notification))
        assert (row.title, row.body) == ("Sở Tư pháp chưa gửi báo cáo Quý II/2025", "Hạn gửi: hết ngày 19/06/2025")
        assert notifications.rendered(row.kind, row.title, row.body, row.params, "en") == (
            "Sở Tư pháp has not sent its report for Quarter II/2025", "Due: end of 19/06/2025")


def test_a_progress_state_is_checked_naming_the_field(shipped, registered_task):
    task_id = registered_task().task_id
    with pytest.raises(InvalidInput, match="^state: ") as refused:
        tracking.record_progress(shipped, task_id, "so-tu-phap", {"state": "finished", "work_done": "x"}, "dm.sotuphap")
    assert refused.value.params["field"] == "state" and "not_started, in_progress, blocked, done" in str(refused.value)
    with pytest.raises(InvalidInput, match="input"):  # a coordinating unit's state is not the lead unit's to report
        tracking.record_progress(shipped, task_id, "so-tu-phap", {"state": "input", "work_done": "x"}, "dm.sotuphap")
    tracking.record_progress(shipped, task_id, "so-tu-phap", {"state": "blocked", "work_done": "x"}, "dm.sotuphap")
    tracking.record_progress(shipped, task_id, "so-tu-phap", {"state": "", "work_done": "x"}, "dm.sotuphap")
    from engine.read.task_queries import task_page

    assert [u.state for u in task_page(shipped, task_id).updates] == [ProgressState.IN_PROGRESS, ProgressState.BLOCKED]


def test_pages_labels_flashes_and_error_pages_follow_the_chosen_language(client, registered_task):
    task_id = registered_task().task_id
    assert sign_in(client, "dm.sotuphap").status_code == 302
    page = client.get(f"/office/tasks/{task_id}?lang=en").get_data(as_text=True)
    assert "Within deadline" in page and '<option value="blocked" >Blocked</option>' in page
    token = csrf_token(client, f"/office/tasks/{task_id}")
    refused = client.post(f"/office/tasks/{task_id}/progress", data={
        "csrf_token": token, "state": "blocked", "work_done": "x", "files": [(io.BytesIO(b""), "empty.pdf")]})
    assert "File &#39;empty.pdf&#39; is empty" in refused.get_data(as_text=True)  # the cookie keeps English
    client.post(f"/office/tasks/{task_id}/progress", data={"csrf_token": token, "state": "blocked", "work_done": "x"})
    page = client.get(f"/office/tasks/{task_id}").get_data(as_text=True)
    assert "Progress update saved." in page and "<strong>Blocked</strong>" in page
    assert "New task" in client.get("/notifications").get_data(as_text=True)
    missing = client.get("/office/tasks/999999")
    assert missing.status_code == 404 and "no task 999999" in missing.get_data(as_text=True)
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404 and "There is no such page" in unknown.get_data(as_text=True)
    vietnamese = client.get("/office/tasks/999999?lang=vi").get_data(as_text=True)
    assert "Không tìm thấy" in vietnamese and "không có nhiệm vụ 999999" in vietnamese


def test_the_api_answers_in_the_language_asked(app, shipped, registered_task):
    from engine.regulation import api_tokens

    registered_task()
    token = api_tokens.issue(shipped, "dm.sotuphap", "test", "admin").token
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    vi = client.get("/api/tracked-tasks/999999", headers=headers).get_json()["error"]
    en = client.get("/api/tracked-tasks/999999?lang=en", headers=headers).get_json()["error"]
    assert (vi, en) == ({"code": "not_found", "message": "không có nhiệm vụ 999999"},
                        {"code": "not_found", "message": "no task 999999"})
    listed = client.get("/api/notifications?lang=en", headers=headers).get_json()["items"]
    assert [(n["kind"], n["title"]) for n in listed] == [  # the step, then which task
        ("task_ready", "New task: Rà soát, tiếp nhận nhiệm vụ: Rà soát thủ tục hành chính (301/QĐ-UBND)")]
    assert client.get("/api/no-such?lang=en", headers=headers).get_json()["error"]["message"] == \
        "There is no such page or record."
