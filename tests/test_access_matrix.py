"""One table of access questions, asked of the pages and of the JSON API: both give the same answer.

Each row is a question (see a task, record progress, register a document...) with the page request
and the API request that ask it, and the answer each kind of user must get. Answers are compared as
what the user learns, not raw codes: a page answers a form error with 422 or a redirect where the
API says 422 or 201, and an anonymous visitor is sent to sign in where the API says 401.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine.process import instances
from engine.regulation import api_tokens, tracking
from engine.regulation.records import TaskStatus, TrackedTask
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.helpers import csrf_token, sign_in
from web import create_app

USERS = ["anonymous", "cv.hoa", "dm.sotuphap", "dm.sotaichinh", "dm.batri", "dm.ttbatri", "pt.lan",
         "ld.ubndtinh", "admin"]
OK, FORBIDDEN, HIDDEN, SIGN_IN = "ok", "forbidden", "hidden", "sign in"
PAGE_ANSWERS = {200: OK, 303: OK, 422: OK, 403: FORBIDDEN, 404: HIDDEN, 302: SIGN_IN}
API_ANSWERS = {200: OK, 201: OK, 422: OK, 403: FORBIDDEN, 404: HIDDEN, 401: SIGN_IN}
o, f, h = OK, FORBIDDEN, HIDDEN

# question: (page request, API request, answers in USERS order after "anonymous", who always signs in).
# A request is (method, path, body); page bodies are form fields, API bodies JSON.
QUESTIONS = {
    "my inbox": (("GET", "/inbox", None), ("GET", "/api/tasks", None),
                 [o, o, o, o, o, o, o, o]),
    "my notifications": (("GET", "/notifications", None), ("GET", "/api/notifications", None),
                         [o, o, o, o, o, o, o, o]),
    "mark my notifications read": (("POST", "/notifications/read", {}),
                                   ("POST", "/api/notifications/read", {"ids": []}),
                                   [o, o, o, o, o, o, o, o]),
    "tracked tasks I may see": (("GET", "/office/tasks", None), ("GET", "/api/tracked-tasks", None),
                                [o, o, o, o, o, o, o, o]),
    "see a department's tracked task": (("GET", "/office/tasks/{task}", None),
                                        ("GET", "/api/tracked-tasks/{task}", None),
                                        [o, o, h, h, h, o, o, o]),
    "open a ready task": (("GET", "/tasks/{instance}/{step}", None), ("GET", "/api/tasks/{instance}/{step}", None),
                          [h, o, h, h, h, h, h, h]),
    "see a ready task's history": (("GET", "/tasks/{instance}/{step}", None),
                                   ("GET", "/api/tasks/{instance}/{step}/history", None),
                                   [h, o, h, h, h, h, h, h]),
    "claim a ready task": (("POST", "/tasks/{instance}/{step}/claim", {}),
                           ("POST", "/api/tasks/{instance}/{step}/claim", {}),
                           [h, o, h, h, h, h, h, h]),
    "record progress": (("POST", "/office/tasks/{task}/progress", {"state": "in_progress", "work_done": "x"}),
                        ("POST", "/api/tracked-tasks/{task}/progress", {"state": "in_progress", "work_done": "x"}),
                        [f, o, h, h, h, f, f, f]),
    "record progress on a closed task": (("POST", "/office/tasks/{closed}/progress", {"work_done": "x"}),
                                         ("POST", "/api/tracked-tasks/{closed}/progress", {"work_done": "x"}),
                                         [f, f, h, h, h, f, f, f]),
    "delegate a part": (("POST", "/office/tasks/{task}/delegate", {"unit": "", "content": ""}),
                        ("POST", "/api/tracked-tasks/{task}/delegate", {"parts": []}),
                        [f, o, h, h, h, f, f, f]),
    "ask for an update now": (("POST", "/office/tasks/{task}/request-update", {"note": "gấp"}),
                              ("POST", "/api/tracked-tasks/{task}/request-update", {"note": "gấp"}),
                              [o, f, h, h, h, f, f, f]),
    "register a document": (("POST", "/office/documents/new", {"number_symbol": ""}), ("POST", "/api/documents", {}),
                            [o, f, f, f, f, f, f, f]),
    "file feedback on a late task": (("POST", "/feedback/new", {"task_id": "{task}", "content": ""}),
                                     ("POST", "/api/feedback", {"task_id": "{task}", "content": ""}),
                                     [f, f, f, o, o, f, f, f]),
    "the feedback register": (("GET", "/office/feedback", None), ("GET", "/api/feedback", None),
                              [o, f, f, f, f, f, f, f]),
    "the reporting rounds": (("GET", "/office/reports", None), ("GET", "/api/reporting-rounds", None),
                             [o, f, f, f, f, f, f, f]),
    "a round never opened": (("GET", "/office/reports/2025-Q2", None), ("GET", "/api/reporting-rounds/2025-Q2", None),
                             [h, f, f, f, f, f, f, f]),
    "tasks I may report on": (("GET", "/feedback/new?q=ra+soat", None), ("GET", "/api/feedback/tasks", None),
                              [f, f, f, o, o, f, f, f]),
    "the feedback my unit filed": (("GET", "/feedback/new", None), ("GET", "/api/feedback/mine", None),
                                   [f, f, f, o, o, f, f, f]),
    "the deployed processes": (("GET", "/processes", None), ("GET", "/api/processes", None),
                               [o, f, f, f, f, o, f, o]),
    # Periodic reports, overdue lists and the heatmap (web/period_reports.py, web/heatmap.py, web/api/...):
    # the Office, the PPC and admins see the province and every unit, a unit's people their subtree.
    "the periodic report": (("GET", "/reports/period", None), ("GET", "/api/reports/period", None),
                            [o, o, o, o, o, f, o, o]),
    "another unit's periodic report": (("GET", "/reports/period?unit=so-tai-chinh", None),
                                       ("GET", "/api/reports/period?unit=so-tai-chinh", None),
                                       [o, f, o, f, f, f, o, o]),
    "the overdue list": (("GET", "/reports/overdue", None), ("GET", "/api/reports/overdue", None),
                         [o, o, o, o, o, f, o, o]),
    "the process heatmap": (("GET", "/reports/heatmap", None), ("GET", "/api/reports/heatmap", None),
                            [o, o, o, o, o, f, o, o]),
    "a heatmap step's tasks": (("GET", "/reports/heatmap/tasks", None),
                               ("GET", "/api/reports/heatmap/tasks", None),
                               [o, o, o, o, o, f, o, o]),
    # The dashboard (web/dashboard.py, web/api/dashboard.py): the province for the Office, the PPC and admins, a
    # unit's subtree for its people; another unit is refused, not silently replaced by one's own.
    "my dashboard": (("GET", "/dashboard", None), ("GET", "/api/dashboard", None), [o, o, o, o, o, f, o, o]),
    "another unit's dashboard": (("GET", "/dashboard?unit=so-tai-chinh", None),
                                 ("GET", "/api/dashboard?unit=so-tai-chinh", None), [o, f, o, f, f, f, o, o]),
    "a dashboard figure's tasks": (("GET", "/dashboard/tasks", None),
                                   ("GET", "/api/dashboard/tasks", None), [o, o, o, o, o, f, o, o]),
    # The organisation (web/admin_units.py, web/api/admin_units.py): admins change, the Office sees; the changes
    # asked here are refused as input (a merge into itself, no name, a file that is not one), so nothing moves.
    "the unit tree": (("GET", "/admin/units", None), ("GET", "/api/units", None), [o, f, f, f, f, f, f, o]),
    "create a unit": (("POST", "/admin/units", {"code": ""}), ("POST", "/api/units", {}), [f, f, f, f, f, f, f, o]),
    "rename or move a unit": (("POST", "/admin/units/change", {"unit": "tt-ba-tri"}),
                              ("PATCH", "/api/units/tt-ba-tri", {}), [f, f, f, f, f, f, f, o]),
    "preview a merge": (("POST", "/admin/units/hand-over-preview", {"unit": "tt-ba-tri", "into": "tt-ba-tri"}),
                        ("POST", "/api/units/tt-ba-tri/merge-preview", {}), [f, f, f, f, f, f, f, o]),
    "merge a unit": (("POST", "/admin/units/hand-over", {"unit": "tt-ba-tri", "into": "tt-ba-tri"}),
                     ("POST", "/api/units/tt-ba-tri/merge", {}), [f, f, f, f, f, f, f, o]),
    "preview a retirement": (("POST", "/admin/units/hand-over-preview", {"action": "retire", "unit": "tt-ba-tri",
                                                                         "into": "tt-ba-tri"}),
                             ("POST", "/api/units/tt-ba-tri/retire-preview", {}), [f, f, f, f, f, f, f, o]),
    "retire a unit": (("POST", "/admin/units/hand-over", {"action": "retire", "unit": "tt-ba-tri",
                                                          "into": "tt-ba-tri"}),
                      ("POST", "/api/units/tt-ba-tri/retire", {}), [f, f, f, f, f, f, f, o]),
    "preview an organisation file": (("POST", "/admin/units/import-preview", {"content": "no"}),
                                     ("POST", "/api/organisation/import-preview", {}), [f, f, f, f, f, f, f, o]),
    "import an organisation file": (("POST", "/admin/units/import", {"content": "no"}),
                                    ("POST", "/api/organisation/import", {}), [f, f, f, f, f, f, f, o]),
    # Instances and incidents (web/admin_instances.py, web/api/admin_instances.py): the Office and admins
    # see, admins act; the actions asked here are refused as input (no reason, a reason too long), so
    # nothing moves.
    "the process instances": (("GET", "/admin/instances", None), ("GET", "/api/instances", None),
                              [o, f, f, f, f, f, f, o]),
    "one process instance": (("GET", "/admin/instances/{instance}", None), ("GET", "/api/instances/{instance}", None),
                             [o, f, f, f, f, f, f, o]),
    "retry an instance in error": (("POST", "/admin/instances/{instance}/retry", {"reason": "x" * 1001}),
                                   ("POST", "/api/instances/{instance}/retry", {"reason": "x" * 1001}),
                                   [f, f, f, f, f, f, f, o]),
    "suspend an instance": (("POST", "/admin/instances/{instance}/suspend", {"reason": ""}),
                            ("POST", "/api/instances/{instance}/suspend", {"reason": ""}), [f, f, f, f, f, f, f, o]),
    "resume an instance": (("POST", "/admin/instances/{instance}/resume", {"reason": "x" * 1001}),
                           ("POST", "/api/instances/{instance}/resume", {"reason": "x" * 1001}),
                           [f, f, f, f, f, f, f, o]),
    "cancel an instance": (("POST", "/admin/instances/{instance}/cancel", {"reason": ""}),
                           ("POST", "/api/instances/{instance}/cancel", {"reason": ""}), [f, f, f, f, f, f, f, o]),
    # Users, sessions, API tokens and the audit log (web/admin_users.py, web/admin_audit.py and their API twins):
    # admins only, the Office reads the audit log; the changes asked here are refused as input (no username, a
    # password too short, an unknown role, a token that is not there) or touch no one asked here (dm.phuong7).
    "the users": (("GET", "/admin/users", None), ("GET", "/api/users", None), [f, f, f, f, f, f, f, o]),
    "add a user": (("POST", "/admin/users", {"username": ""}), ("POST", "/api/users", {}), [f, f, f, f, f, f, f, o]),
    "change a user": (("POST", "/admin/users/{username}", {"full_name": ""}),
                      ("PATCH", "/api/users/{username}", {"roles": ["nope"]}), [f, f, f, f, f, f, f, o]),
    "set a user's password": (("POST", "/admin/users/{username}/password", {"password": "x"}),
                              ("POST", "/api/users/{username}/password", {"password": "x"}), [f, f, f, f, f, f, f, o]),
    "make a set-password link": (("POST", "/admin/users/{username}/password-link", {}),
                                 ("POST", "/api/users/{username}/password-link", None), [f, f, f, f, f, f, f, o]),
    "end a user's sessions": (("POST", "/admin/users/{username}/end-sessions", {}),
                              ("POST", "/api/users/{username}/end-sessions", None), [f, f, f, f, f, f, f, o]),
    "the API tokens": (("GET", "/admin/tokens", None), ("GET", "/api/tokens", None), [f, f, f, f, f, f, f, o]),
    "issue an API token": (("POST", "/admin/tokens", {"username": "", "name": ""}),
                           ("POST", "/api/tokens", {"username": "", "name": ""}), [f, f, f, f, f, f, f, o]),
    "revoke a token that is not there": (("POST", "/admin/tokens/{token_id}/revoke", {}),
                                         ("DELETE", "/api/tokens/{token_id}", None), [f, f, f, f, f, f, f, h]),
    "the audit log": (("GET", "/admin/audit", None), ("GET", "/api/audit", None), [o, f, f, f, f, f, f, o]),
    "export the audit log": (("GET", "/admin/audit.csv", None), ("GET", "/api/audit.csv", None),
                             [o, f, f, f, f, f, f, o]),
    # Versions (web/versions.py, web/api/versions.py): readers see, analysts and admins change; the changes
    # asked here are refused as input (no file, no comment, the same version twice), so nothing moves.
    "the versions of a process": (("GET", "/processes/{process_id}/versions", None),
                                  ("GET", "/api/processes/{process_id}/versions", None), [o, f, f, f, f, o, f, o]),
    "the diff of two versions": (("GET", "/processes/{process_id}/versions/{a}/diff/{b}", None),
                                 ("GET", "/api/processes/{process_id}/versions/{a}/diff/{b}", None),
                                 [o, f, f, f, f, o, f, o]),
    "the instances running on a version": (("GET", "/processes/{process_id}/versions", None),
                                           ("GET", "/api/processes/{process_id}/versions/{version}/instances", None),
                                           [o, f, f, f, f, o, f, o]),
    "deploy a new version": (("POST", "/processes/{process_id}/versions", {"comment": ""}),
                             ("POST", "/api/processes/{process_id}/versions", {"bpmn": "x", "comment": "x"}),
                             [f, f, f, f, f, o, f, o]),
    "roll back to a version": (("POST", "/processes/{process_id}/versions/{version}/roll-back", {"comment": ""}),
                               ("POST", "/api/processes/{process_id}/versions/{version}/roll-back", {"comment": ""}),
                               [f, f, f, f, f, o, f, o]),
    "preview moving running instances": (("GET", "/processes/{process_id}/migrate?from=1&to=1", None),
                                         ("POST", "/api/processes/{process_id}/migrations/preview",
                                          {"from": 1, "to": 1}), [f, f, f, f, f, o, f, o]),
    "move running instances": (("POST", "/processes/{process_id}/migrate", {"from": "1", "to": "1"}),
                               ("POST", "/api/processes/{process_id}/migrations", {"from": 1, "to": 1}),
                               [f, f, f, f, f, o, f, o]),
    "dry-run a diagram": (("GET", "/processes/task_followup/dry-run", None),
                          ("POST", "/api/processes/task_followup/dry-runs", {"start_data": {}}),
                          [f, f, f, f, f, o, f, o]),
    "see a dry run that is not there": (("GET", "/processes/task_followup/dry-run/nosuchrun", None),
                                        ("GET", "/api/dry-runs/nosuchrun", None), [f, f, f, f, f, h, f, h]),
    "answer a task of a dry run": (("POST", "/processes/task_followup/dry-run/nosuchrun/tasks/{step}", {}),
                                   ("POST", "/api/dry-runs/nosuchrun/tasks/{step}", {"data": {}}),
                                   [f, f, f, f, f, h, f, h]),
    "move a dry run's clock": (("POST", "/processes/task_followup/dry-run/nosuchrun/clock", {"until": "next_timer"}),
                               ("POST", "/api/dry-runs/nosuchrun/clock", {"until": "next_timer"}),
                               [f, f, f, f, f, h, f, h]),
    "end a dry run": (("POST", "/processes/task_followup/dry-run/nosuchrun/end", {}),
                      ("DELETE", "/api/dry-runs/nosuchrun", None), [f, f, f, f, f, h, f, h]),
    "open a process's draft in the workbench": (("GET", "/processes/task_followup/edit", None),
                                                ("GET", "/api/processes/task_followup/draft", None),
                                                [f, f, f, f, f, o, f, o]),
    "save a draft": (("GET", "/processes/task_followup/edit/draft", None),
                     ("PUT", "/api/processes/task_followup/draft", {"bpmn": "<x/>", "forms": {}}),
                     [f, f, f, f, f, o, f, o]),
    "check a draft": (("GET", "/workbench/catalog", None),
                      ("POST", "/api/processes/task_followup/draft/check", {"bpmn": "<x/>", "forms": {}}),
                      [f, f, f, f, f, o, f, o]),
    "discard a draft": (("GET", "/processes/task_followup/edit", None),
                        ("DELETE", "/api/processes/task_followup/draft", None),
                        [f, f, f, f, f, o, f, o]),
    "the modeler's lists": (("GET", "/workbench/catalog", None), ("GET", "/api/workbench/catalog", None),
                            [f, f, f, f, f, o, f, o]),
    "preview a form": (("GET", "/workbench/catalog", None),
                       ("POST", "/api/workbench/form-preview", {"schema": {"type": "object"}}),
                       [f, f, f, f, f, o, f, o]),
    "choose the rounds that open by themselves": (("POST", "/office/reports/plan", {"auto": "weekly"}),
                                                  ("PUT", "/api/reporting-plan", {"automatic": ["weekly"]}),
                                                  [o, f, f, f, f, f, f, f]),
    "open a reporting round": (("POST", "/office/reports", {"cadence": "weekly", "period_day": "2025-04-01"}),
                               ("POST", "/api/reporting-rounds", {"cadence": "weekly", "period_day": "2025-04-01"}),
                               [o, f, f, f, f, f, f, f]),
    # Timer settings and the calendar (web/admin_settings.py, web/admin_calendar.py and their API twins): the
    # Office and admins see, admins change; the changes asked here are refused as input (a value out of range,
    # no reason, an empty file, a day with no override), so nothing moves.
    "the timer settings": (("GET", "/admin/settings", None), ("GET", "/api/settings", None), [o, f, f, f, f, f, f, o]),
    "a timer setting's history": (("GET", "/admin/settings/{setting}", None),
                                  ("GET", "/api/settings/{setting}/history", None), [o, f, f, f, f, f, f, o]),
    "preview a timer setting's new value": (("POST", "/admin/settings/{setting}/preview",
                                             {"value": "-1", "reason": "x"}),
                                            ("POST", "/api/settings/{setting}/preview", {"value": -1}),
                                            [f, f, f, f, f, f, f, o]),
    "change a timer setting": (("POST", "/admin/settings/{setting}", {"value": "-1", "reason": "x"}),
                               ("PUT", "/api/settings/{setting}",
                                {"value": -1, "reason": "x", "apply_to_running": False}),
                               [f, f, f, f, f, f, f, o]),
    "the working-day calendar of a year": (("GET", "/admin/calendar?year={year}", None),
                                           ("GET", "/api/calendar/{year}", None), [o, f, f, f, f, f, f, o]),
    "the working-days tester": (("GET", "/admin/calendar?since=x&n=3", None),
                                ("GET", "/api/calendar/working-days", None),
                                [o, f, f, f, f, f, f, o]),
    "preview a calendar override": (("POST", "/admin/calendar/overrides/preview", {"day": "{day}", "kind": "day_off"}),
                                    ("POST", "/api/calendar/overrides/{day}/preview", {"action": "add"}),
                                    [f, f, f, f, f, f, f, o]),
    "add a calendar override": (("POST", "/admin/calendar/overrides", {"day": "{day}", "kind": "day_off"}),
                                ("PUT", "/api/calendar/overrides/{day}", {"kind": "day_off", "reason": "", "source": "",
                                                                          "apply_to_running": False}),
                                [f, f, f, f, f, f, f, o]),
    "remove a calendar override": (("POST", "/admin/calendar/overrides/{day}/remove", {}),
                                   ("DELETE", "/api/calendar/overrides/{day}", None), [f, f, f, f, f, f, f, h]),
    "import a year's calendar": (("POST", "/admin/calendar/import", {"csv": ""}),
                                 ("POST", "/api/calendar/import", {"csv": ""}), [f, f, f, f, f, f, f, o]),
    # Last: a form that is complete would move the task on for the questions after it.
    "complete a ready task with a wrong form": (("POST", "/tasks/{instance}/{step}", {"decision": "maybe"}),
                                                ("POST", "/api/tasks/{instance}/{step}/complete",
                                                 {"data": {"decision": "maybe"}}),
                                                [h, o, h, h, h, h, h, h]),
}
# Pages with no API counterpart (forms shown before a POST, the diagram for the viewer).
PAGE_ONLY = {
    "/office/documents/new":   [302, 200, 403, 403, 403, 403, 403, 403, 403],
    "/feedback/new":           [302, 403, 403, 403, 200, 200, 403, 403, 403],
    "/tasks/{instance}/{step}/diagram.xml": [302, 404, 200, 404, 404, 404, 404, 404, 404],
    "/reports/period.xlsx?unit=so-tai-chinh": [302, 200, 403, 200, 403, 403, 403, 200, 200],
    "/reports/overdue.xlsx": [302, 200, 200, 200, 200, 200, 403, 200, 200],
    "/reports/heatmap/task_followup/diagram.xml": [302, 200, 200, 200, 200, 200, 403, 200, 200],
}


@pytest.fixture
def world(shipped):
    ctx = shipped
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol="44/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh", issuer="UBND tỉnh",
        signer="Chủ tịch", summary="Ma trận quyền"), [
            TaskInput(content="Việc của Sở Tư pháp", lead_unit="so-tu-phap", expected_output="Báo cáo",
                      deadline=date(2025, 6, 1)),
            TaskInput(content="Việc đã xong", lead_unit="so-tu-phap", expected_output="Báo cáo",
                      deadline=date(2025, 6, 1))],
        actor="cv.hoa")
    with ctx.unit_of_work() as session:  # the second task is finished: no more progress on it
        session.get(TrackedTask, registered.task_ids[1]).status = TaskStatus.COMPLETED_ON_TIME
    instance = registered.instance_ids[0]
    step = instances.list_ready_tasks(ctx, instance_id=instance)[0].task_id
    app = create_app(ctx, {"TESTING": True, "SECRET_KEY": "matrix"})
    pages, tokens = {}, {}
    for user in USERS:
        client = app.test_client()
        if user != "anonymous":
            assert sign_in(client, user).status_code == 302, user
            tokens[user] = api_tokens.issue(ctx, user, "matrix", "admin").token
        pages[user] = client
    ids = {"task": registered.task_ids[0], "closed": registered.task_ids[1], "instance": instance, "step": step,
           "process_id": "task_followup", "a": 1, "b": 1, "version": 1,
           "setting": "feedback_office_action", "year": "2026", "day": "2026-11-24"}
    ids.update(username="dm.phuong7", token_id=999999)  # users and tokens (the admin console)
    return app, pages, tokens, ids


def _page(client, request, ids):
    method, path, body = request
    path = path.format(**ids)
    if method == "GET":
        return client.get(path).status_code
    form = {k: v.format(**ids) for k, v in body.items()}
    form["csrf_token"] = csrf_token(client)  # the sign-in page gives anyone the session's token
    return client.post(path, data=form).status_code


def _api(app, token, request, ids):
    method, path, body = request
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        body = {k: int(v.format(**ids)) if v == "{task}" else v for k, v in body.items()}
    return app.test_client().open(path.format(**ids), method=method, json=body, headers=headers).status_code


def test_pages_and_api_give_each_user_the_same_answer_to_every_question(world):
    app, pages, tokens, ids = world
    got_pages, got_api, want = {}, {}, {}
    for question, (page_request, api_request, answers) in QUESTIONS.items():
        for user, answer in zip(USERS, [SIGN_IN, *answers], strict=True):
            want[(question, user)] = answer
            got_pages[(question, user)] = PAGE_ANSWERS.get(_page(pages[user], page_request, ids))
            got_api[(question, user)] = API_ANSWERS.get(_api(app, tokens.get(user), api_request, ids))
    assert got_pages == want
    assert got_api == want


def test_every_api_route_is_asked_in_the_table(world):
    app, *_ = world
    asked = {api[1] for _, api, _ in QUESTIONS.values()}
    routes = {r.rule.replace("<id:", "{").replace("<", "{").replace(">", "}") for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") and r.rule != "/api/openapi.json"}
    named = {path.replace("{task}", "{task_id}").replace("{closed}", "{task_id}")
             .replace("{instance}", "{instance_id}").replace("{step}", "{task_id}").replace("2025-Q2", "{period_key}")
             .replace("/nosuchrun", "/{run_id}").replace("/processes/task_followup/", "/processes/{process_id}/")
                 .replace("/units/tt-ba-tri", "/units/{code}")
             for path in asked}
    assert not routes - named, f"API routes with no access question: {sorted(routes - named)}"


def test_pages_without_an_api_answer_each_user_as_their_role_and_unit_allow(world):
    _, pages, _, ids = world
    got = {(route, user): pages[user].get(route.format(**ids)).status_code for route in PAGE_ONLY for user in USERS}
    want = {(route, user): status for route, statuses in PAGE_ONLY.items()
            for user, status in zip(USERS, statuses, strict=True)}
    assert got == want


def test_the_api_refuses_cookies_without_a_token(world):
    _, pages, _, _ = world
    assert pages["cv.hoa"].get("/api/tasks").status_code == 401  # a session cookie is no API credential
