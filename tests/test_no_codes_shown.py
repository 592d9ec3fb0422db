"""No technical text in the Vietnamese pages (issue 13, item 10): the main pages are walked as each demo
user over a demo province, and their visible text holds no code: no snake_case identifier (process ids,
step ids, enum values, audit actions), no unit code, no login name as a person, no "tasks[0]"."""
from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from engine.app import demo
from engine.regulation.organisation import Unit, User
from engine.regulation.records import DocumentType, FeedbackOutcome, ProgressState, TaskStatus, TrackedTask
from engine.worktime.periods import Cadence
from tests.helpers import sign_in

USERS = ("cv.hoa", "ld.vanphong", "ld.ubndtinh", "dm.sotuphap", "ld.sotuphap", "dm.batri", "dm.tanxuan",
         "dm.congan", "pt.lan", "admin")
PAGES = ("/inbox", "/office/tasks", "/notifications", "/office/feedback", "/feedback/new", "/office/reports",
         "/office/documents/new", "/admin/settings", "/admin/settings/task_review", "/admin/calendar",
         "/processes", "/processes/task_followup/versions", "/admin/audit", "/admin/instances")
# Where a code is the thing itself: the admin's lists of users and units show login names and codes to
# the administrators who type them (documented in docs/words.md).
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
SINGLE_WORD_CODES = {v.value for e in (DocumentType, FeedbackOutcome, ProgressState, TaskStatus, Cadence)
                     for v in e if "_" not in v.value} | {"demo", "system", "timer", "scheduler", "seed", "cli"}


class _Text(HTMLParser):
    """The text a person sees: text nodes outside script, style and template."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def codes_in(text: str, unit_codes: set[str], logins: set[str]) -> set[str]:
    """The codes a page's visible text shows (a diagram's file name, "task_followup.bpmn", is a file's name)."""
    text = re.sub(r"\S+\.bpmn\b", "", text)
    words = set(re.findall(r"(?<![\w.-])[\w.-]+(?![\w.-])", text))
    found = set(SNAKE.findall(text)) | {w for w in words if w in unit_codes or w in logins}
    found |= {w for w in re.findall(r"\b[a-z]+\b", text) if w in SINGLE_WORD_CODES}
    return found | set(re.findall(r"\w+\[\d+\]", text))


@pytest.fixture
def province(app, shipped):
    """A small demo province (the real use cases played over two months)."""
    demo.build_demo(shipped, date(2025, 6, 30), tasks=30, days=60)
    return app


def _more_pages(ctx, inbox: str) -> list[str]:
    # A reporting round, a tracked task, two steps of the person's inbox and two instances: pages with names.
    with ctx.unit_of_work(readonly=True) as session:
        task = session.scalar(select(TrackedTask.id).order_by(TrackedTask.id))
    rounds = re.findall(r'href="(/office/reports/[\w-]+)"', inbox)
    steps = list(dict.fromkeys(re.findall(r'href="(/tasks/\d+/[\w-]+)"', inbox)))[:2]
    return [*rounds[:1], f"/office/tasks/{task}", *steps, "/admin/instances/1", f"/admin/instances/{task}"]


def test_the_main_pages_show_no_codes_to_any_demo_user(province, shipped):
    with shipped.unit_of_work(readonly=True) as session:
        unit_codes = set(session.scalars(select(Unit.code)))
        logins = set(session.scalars(select(User.username)))
    shown: dict[str, set[str]] = {}
    for username in USERS:
        client = province.test_client()
        sign_in(client, username)
        links = client.get("/inbox").get_data(as_text=True) + client.get("/office/reports").get_data(as_text=True)
        for path in (*PAGES, *_more_pages(shipped, links)):
            response = client.get(path)
            if response.status_code != 200:
                continue
            html = response.get_data(as_text=True)
            if path == "/admin/audit":  # an entry's details are its stored data as is (docs/words.md)
                html = re.sub(r'<td class="summary">.*?</td>', "", html, flags=re.S)
            if path == "/admin/calendar":  # the CSV import's help names the kinds the file holds, as typed there
                html = html.replace("day_off", "").replace("working_day", "")
            codes = codes_in(visible_text(html), unit_codes, logins)
            if codes:
                shown[f"{username} {path}"] = codes
    assert shown == {}, "\n".join(f"{k}: {sorted(v)[:12]}" for k, v in shown.items())
