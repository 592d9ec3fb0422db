"""The audit log page and API: filters (person, unit, procedure, action, period), paging by key across pages
(no duplicate, no gap, stable while entries are written), names not codes, the CSV export, and who may read
it (admins and the Office; not units). On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.core import audit
from engine.core.audit import AuditEntry
from engine.read import audit_queries
from engine.regulation import api_tokens
from tests.helpers import TZ, sign_in

BASE = datetime(2025, 4, 20, 8, 0, tzinfo=TZ)


@pytest.fixture
def api(app, ctx):
    """GET from the API as a user: api(user, path) -> response."""
    tokens = {}

    def call(user, path):
        if user not in tokens:
            tokens[user] = api_tokens.issue(ctx, user, "test", "admin").token
        return app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[user]}"})

    return call


def write(ctx, entries):
    """Append entries (at, actor, action, instance_id) to the log, as the use cases do."""
    with ctx.unit_of_work() as session:
        for at, actor, action, instance in entries:
            audit.record(session, at=at, actor=actor, action=action, instance_id=instance, summary={"n": str(at)})


def ids_of(ctx, **where):
    """Ids of the log's entries newest first (the page order), filtered in Python for the expected answer."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
                                      AuditEntry.instance_id)).all()
    keep = [r for r in rows if all(check(r) for check in where.values())]
    return [r.id for r in sorted(keep, key=lambda r: (r.at, r.id), reverse=True)]


def walk(api, user, query, limit):
    """Every page's ids from the first page to the last, following `next`."""
    pages, after = [], ""
    while True:
        answer = api(user, f"/api/audit?limit={limit}&{query}{after}")
        assert answer.status_code == 200, answer.json
        pages.append([item["id"] for item in answer.json["items"]])
        if answer.json["next"] is None:
            return pages
        after = "&after=" + answer.json["next"].replace("+", "%2B")


def test_keyset_pages_cover_every_entry_once_in_order_with_ties(api, ctx):
    # 120 entries on 7 instants only: many share their instant, so the id decides within it.
    write(ctx, [(BASE + timedelta(minutes=i % 7), ("cv.hoa", "dm.sotuphap", "admin")[i % 3], "sign_in", None)
                for i in range(120)])
    pages = walk(api, "admin", "", 17)
    seen = [i for page in pages for i in page]
    assert seen == ids_of(ctx)  # all of them, newest first, none twice
    assert len(seen) == len(set(seen)) and all(len(page) == 17 for page in pages[:-1])
    # A unit's people are read one index range each and merged: the same walk, over their entries only.
    unit_pages = walk(api, "admin", "unit=so-tu-phap", 7)
    assert [i for page in unit_pages for i in page] == ids_of(ctx, actor=lambda r: r.actor in {"dm.sotuphap",
                                                                                               "ld.sotuphap"})
    assert len(unit_pages) > 3


def test_pages_stay_stable_while_entries_are_written(api, ctx):
    write(ctx, [(BASE + timedelta(seconds=i), "cv.hoa", "sign_in", None) for i in range(60)])
    first = api("admin", "/api/audit?limit=25").json
    before = ids_of(ctx)  # as the first page was read (its token's issue included)
    write(ctx, [(BASE + timedelta(hours=1, seconds=i), "admin", "sign_in", None) for i in range(30)])  # newer ones
    after, seen = first["next"], [i["id"] for i in first["items"]]
    while after:
        page = api("admin", "/api/audit?limit=25&after=" + after.replace("+", "%2B")).json
        seen += [i["id"] for i in page["items"]]
        after = page["next"]
    assert seen == before  # the older entries: each once, none skipped; the newer ones come on a new first page


def test_filters_by_person_action_unit_and_period(api, ctx):
    write(ctx, [
        (BASE, "dm.sotuphap", "complete_task", None),
        (BASE + timedelta(hours=1), "ld.sotuphap", "sign_in", None),
        (BASE + timedelta(hours=2), "dm.batri", "complete_task", None),
        (BASE + timedelta(hours=3), "dm.ttbatri", "complete_task", None),   # a commune below Ba Tri
        (datetime(2025, 4, 21, 23, 30, tzinfo=TZ), "cv.hoa", "sign_in", None),  # late on the 21st, Vietnam time
        (datetime(2025, 4, 22, 0, 30, tzinfo=TZ), "cv.hoa", "sign_in", None),
    ])

    def got(query):
        answer = api("cv.hoa", f"/api/audit?{query}")
        assert answer.status_code == 200, answer.json
        return [(i["actor"], i["action"]) for i in answer.json["items"] if i["at"] < "2025-04-25"]

    assert got("actor=dm.sotuphap") == [("dm.sotuphap", "complete_task")]
    assert {a for a, _ in got("action=complete_task")} == {"dm.sotuphap", "dm.batri", "dm.ttbatri"}
    assert {a for a, _ in got("unit=so-tu-phap")} == {"dm.sotuphap", "ld.sotuphap"}
    assert {a for a, _ in got("unit=UBND huyện Ba Tri")} == {"dm.batri", "dm.ttbatri"}  # by name, units below too
    assert got("unit=so-tu-phap&action=sign_in") == [("ld.sotuphap", "sign_in")]
    assert got("from=2025-04-21&to=2025-04-21") == [("cv.hoa", "sign_in")]
    assert len(got("from=2025-04-20&to=2025-04-22")) == 6
    assert got("from=2025-04-22") == [("cv.hoa", "sign_in")]


def test_the_procedure_filter_goes_through_the_instance_and_rows_carry_names(api, ctx, registered_task):
    task = registered_task()
    write(ctx, [(BASE, "dm.sotuphap", "complete_task", task.instance_id), (BASE, "dm.sotuphap", "sign_in", None)])
    items = api("admin", "/api/audit?process=task_followup&lang=en").json["items"]
    assert items and {i["instance_id"] for i in items} == {task.instance_id}
    assert {i["process_id"] for i in items} == {"task_followup"} and all(i["process_name"] for i in items)
    mine = next(i for i in items if i["actor"] == "dm.sotuphap")
    assert mine["actor_name"] and mine["actor_unit"] == "Sở Tư pháp" and mine["action_label"] == "Task completed"
    assert api("admin", "/api/audit?process=no_such_process").json["items"] == []
    page = app_page(api, ctx, "/admin/audit?process=task_followup")
    assert "Hoàn thành công việc" in page and "complete_task" not in page.split("<tbody>")[1].split("data-action")[0]


def app_page(api, ctx, path):
    from web import create_app

    client = create_app(ctx, {"TESTING": True, "SECRET_KEY": "t"}).test_client()
    sign_in(client, "admin")
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("query", ["from=2025-02-30", "from=2025-04-22&to=2025-04-21", "after=nonsense",
                                   "after=2025-04-20T08:00:00_1", "unit=no-such-unit", "actor=" + "x" * 201])
def test_filters_that_do_not_fit_are_422(api, query):
    answer = api("admin", f"/api/audit?{query}")
    assert answer.status_code == 422 and answer.json["error"]["message"]


def test_the_csv_export_holds_the_filtered_rows_with_names(api, ctx):
    write(ctx, [(BASE + timedelta(minutes=i), "dm.sotuphap", "complete_task", None) for i in range(5)])
    write(ctx, [(BASE, "=cmd|' /C calc'!A0", "sign_in_failed", None)])  # what a stranger typed as a username
    answer = api("cv.hoa", "/api/audit.csv?actor=dm.sotuphap&lang=en")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [int(r["id"]) for r in rows] == ids_of(ctx, actor=lambda r: r.actor == "dm.sotuphap")
    assert {r["action_label"] for r in rows} == {"Task completed"} and {r["actor_unit"] for r in rows} == {"Sở Tư pháp"}
    assert rows[0]["at"].endswith("+07:00")
    strange = list(csv.DictReader(io.StringIO(api("admin", "/api/audit.csv?action=sign_in_failed").get_data(
        as_text=True).lstrip("\ufeff"))))
    assert strange[0]["actor"].startswith("'=")  # no formula in a spreadsheet


def test_an_export_larger_than_the_limit_is_refused_up_front(api, ctx, monkeypatch):
    write(ctx, [(BASE + timedelta(seconds=i), "cv.hoa", "sign_in", None) for i in range(12)])
    monkeypatch.setattr(audit_queries, "EXPORT_LIMIT", 10)
    assert api("admin", "/api/audit.csv").status_code == 422
    assert api("admin", "/api/audit.csv?actor=nobody").status_code == 200
    monkeypatch.setattr(audit_queries, "EXPORT_CHUNK", 5)  # several chunks, read by key: all rows, once
    monkeypatch.setattr(audit_queries, "EXPORT_LIMIT", 1000)
    rows = list(csv.DictReader(io.StringIO(api("admin", "/api/audit.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(r["id"]) for r in rows] == ids_of(ctx)


@pytest.mark.parametrize(("user", "status"), [("admin", 200), ("cv.hoa", 200), ("ld.vanphong", 200),
                                              ("dm.sotuphap", 403), ("pt.lan", 403), ("ld.ubndtinh", 403)])
def test_admins_and_the_office_read_the_log_units_do_not(api, app, user, status):
    assert api(user, "/api/audit").status_code == status
    assert api(user, "/api/audit.csv").status_code == status
    browser = app.test_client()
    sign_in(browser, user)
    assert browser.get("/admin/audit").status_code == status
    assert browser.get("/admin/audit.csv").status_code == status


def test_the_page_filters_pages_and_links_the_export(app, ctx):
    write(ctx, [(BASE + timedelta(seconds=i), "dm.sotuphap", "complete_task", None) for i in range(60)])
    client = app.test_client()
    sign_in(client, "cv.hoa")
    page = client.get("/admin/audit?actor=dm.sotuphap").get_data(as_text=True)
    assert page.count('data-action="complete_task"') == audit_queries.PAGE_SIZE
    assert "Hoàn thành công việc" in page and 'id="audit-next"' in page
    assert "/admin/audit.csv?actor=dm.sotuphap" in page
    nxt = page.split('id="audit-next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(nxt).get_data(as_text=True)
    assert second.count('data-action="complete_task"') == 10 and 'id="audit-next"' not in second
    assert client.get("/admin/audit?from=2025-99-01").status_code == 422


def test_the_period_is_typed_dd_mm_yyyy_and_a_wrong_day_is_named_and_kept(app, ctx):
    # Issue 13, item 11: text inputs like the other forms, no browser date picker (mm/dd/yyyy on English systems).
    write(ctx, [(BASE, "dm.sotuphap", "complete_task", None)])
    client = app.test_client()
    sign_in(client, "cv.hoa")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'type="date"' not in page and page.count('placeholder="dd/mm/yyyy"') == 2
    day = BASE.astimezone(TZ).strftime("%d/%m/%Y")
    found = client.get(f"/admin/audit?from={day}&to={day}").get_data(as_text=True)
    assert 'data-action="complete_task"' in found and f'value="{day}"' in found
    iso = client.get(f"/admin/audit?from={BASE.astimezone(TZ).date().isoformat()}").get_data(as_text=True)
    assert f'value="{day}"' in iso  # an older link's yyyy-mm-dd is shown dd/mm/yyyy
    wrong = client.get("/admin/audit?from=31/02/2025")
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "Từ ngày: ngày không hợp lệ" in text and 'value="31/02/2025"' in text
