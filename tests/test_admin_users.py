"""Users, sessions and API tokens from the admin console: the JSON API and the pages, on SQLite and PostgreSQL.

Create (no password, no demo password), edit with the unit by name, roles checked, deactivate (sessions end,
sign-in and tokens refused) and reactivate; a one-time set-password link works once and lapses; tokens are
issued once, listed without their value and revoked (401 after); only admins (403 for the Office and units).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.regulation import api_tokens, organisation, password_links
from tests.helpers import csrf_token, sign_in


@pytest.fixture
def api(app, ctx):
    """Call the API as a user: api(user, method, path, json=...) -> response."""
    tokens = {}

    def call(user, method, path, **kwargs):
        if user not in tokens:
            tokens[user] = api_tokens.issue(ctx, user, "test", "admin").token
        return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"},
                                      **kwargs)

    return call


def audit_of(ctx, action):
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


NEW = {"username": "nv.an", "full_name": "Nguyễn Văn An", "unit": "Sở Tư pháp", "roles": ["unit_focal_point"]}


def test_an_admin_creates_a_user_with_the_unit_by_name_and_no_password(api, app, ctx):
    answer = api("admin", "POST", "/api/users", json={**NEW, "email": "an@example.vn"})
    assert answer.status_code == 201
    assert answer.json | {"created_at": None} == {
        "username": "nv.an", "full_name": "Nguyễn Văn An", "email": "an@example.vn", "unit_code": "so-tu-phap",
        "unit_name": "Sở Tư pháp", "roles": ["unit_focal_point"], "active": True, "has_password": False,
        "open_sessions": 0, "created_at": None}
    listed = api("admin", "GET", "/api/users?q=văn an").json["items"]
    assert [u["username"] for u in listed] == ["nv.an"]
    in_unit = {u["username"] for u in api("admin", "GET", "/api/users?unit=Sở Tư pháp").json["items"]}
    assert "nv.an" in in_unit and "dm.batri" not in in_unit
    assert in_unit == {u["username"] for u in api("admin", "GET", "/api/users?unit=so-tu-phap").json["items"]}
    (entry,) = audit_of(ctx, "user_created")
    assert entry.actor == "admin" and entry.summary["user"] == "nv.an" and entry.summary["unit_name"] == "Sở Tư pháp"
    # No password, and no demo password either: the demo one does not open it.
    assert sign_in(app.test_client(), "nv.an", "demo123").status_code == 401


@pytest.mark.parametrize(("change", "code"), [
    ({"roles": ["unit_focal_point", "chief_wizard"]}, 422),
    ({"unit": "Sở Phép thuật"}, 422),
    ({"unit": ""}, 422),
    ({"username": "Has Space"}, 422),
    ({"username": "dm.sotuphap"}, 409),
    ({"full_name": " "}, 422),
    ({"email": "not-an-address"}, 422),
])
def test_a_user_that_does_not_fit_is_refused_and_nothing_is_made(api, ctx, change, code):
    answer = api("admin", "POST", "/api/users", json={**NEW, **change})
    assert answer.status_code == code, answer.json
    assert answer.json["error"]["message"]
    assert audit_of(ctx, "user_created") == []
    assert api("admin", "GET", "/api/users?q=nv.an").json["items"] == []


def test_two_units_of_one_name_are_told_apart_by_code(api, ctx):
    organisation.add_unit(ctx, "so-tu-phap-2", "Sở Tư pháp", "department", "ubnd-tinh", "admin")
    refused = api("admin", "POST", "/api/users", json=NEW)
    assert refused.status_code == 422 and "so-tu-phap-2" in refused.json["error"]["message"]
    assert api("admin", "POST", "/api/users", json={**NEW, "unit": "so-tu-phap-2"}).json["unit_code"] == "so-tu-phap-2"


def test_an_admin_edits_name_unit_and_roles_with_a_reason_audited(api, ctx):
    api("admin", "POST", "/api/users", json=NEW)
    answer = api("admin", "PATCH", "/api/users/nv.an", json={
        "full_name": "Nguyễn Văn Ân", "unit": "UBND huyện Ba Tri", "roles": ["unit_leader", "unit_focal_point"],
        "reason": "điều động theo QĐ 12"})
    assert answer.status_code == 200
    assert (answer.json["full_name"], answer.json["unit_code"], answer.json["roles"]) == (
        "Nguyễn Văn Ân", "huyen-ba-tri", ["unit_focal_point", "unit_leader"])
    (entry,) = audit_of(ctx, "user_changed")
    assert entry.summary["reason"] == "điều động theo QĐ 12"
    assert entry.summary["changes"]["unit"] == ["Sở Tư pháp", "UBND huyện Ba Tri"]
    assert entry.summary["changes"]["roles"] == [["unit_focal_point"], ["unit_focal_point", "unit_leader"]]
    assert api("admin", "PATCH", "/api/users/nv.an", json={"roles": ["wizard"]}).status_code == 422
    assert api("admin", "PATCH", "/api/users/nv.an", json={"unit": "Không có"}).status_code == 422
    assert api("admin", "PATCH", "/api/users/nobody.here", json={"full_name": "X"}).status_code == 404
    assert api("admin", "GET", "/api/users?q=nv.an").json["items"][0]["roles"] == ["unit_focal_point", "unit_leader"]


def test_a_deactivated_user_cannot_sign_in_their_sessions_end_and_their_tokens_stop(api, app, ctx):
    browser = app.test_client()
    assert sign_in(browser, "dm.ttbatri").status_code == 302
    assert browser.get("/inbox").status_code == 200
    assert api("dm.ttbatri", "GET", "/api/tasks").status_code == 200
    answer = api("admin", "PATCH", "/api/users/dm.ttbatri", json={"active": False, "reason": "nghỉ hưu"})
    assert answer.status_code == 200 and answer.json["active"] is False and answer.json["open_sessions"] == 0
    assert browser.get("/inbox").status_code == 302  # the session ended: back to sign in
    assert sign_in(app.test_client(), "dm.ttbatri").status_code == 401
    assert api("dm.ttbatri", "GET", "/api/tasks").status_code == 401
    (entry,) = audit_of(ctx, "user_deactivated")
    assert entry.summary["changes"]["sessions_ended"] == 1 and entry.summary["reason"] == "nghỉ hưu"
    assert api("admin", "PATCH", "/api/users/dm.ttbatri", json={"active": True}).json["active"] is True
    assert sign_in(app.test_client(), "dm.ttbatri").status_code == 302
    assert len(audit_of(ctx, "user_reactivated")) == 1


def test_an_admin_neither_deactivates_themselves_nor_drops_their_own_admin_role(api):
    assert api("admin", "PATCH", "/api/users/admin", json={"active": False}).status_code == 409
    assert api("admin", "PATCH", "/api/users/admin", json={"roles": ["tracking_specialist"]}).status_code == 409
    assert api("admin", "GET", "/api/users?q=admin").json["items"][0]["roles"] == ["admin"]


def test_a_set_password_link_works_once(api, app, ctx):
    api("admin", "POST", "/api/users", json=NEW)
    made = api("admin", "POST", "/api/users/nv.an/password-link")
    assert made.status_code == 201
    path = "/password-link/" + made.json["token"]
    assert made.json["url"].endswith(path)
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "nv.an" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    token = csrf_token(visitor, path)
    assert visitor.post(path, data={"password": "mật khẩu mới 1", "again": "khác", "csrf_token": token}
                        ).status_code == 422
    assert visitor.post(path, data={"password": "short", "again": "short", "csrf_token": token}).status_code == 422
    done = visitor.post(path, data={"password": "mật khẩu mới 1", "again": "mật khẩu mới 1", "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert sign_in(app.test_client(), "nv.an", "mật khẩu mới 1").status_code == 302
    again = visitor.post(path, data={"password": "thứ hai 12345", "again": "thứ hai 12345", "csrf_token": token})
    assert again.status_code == 404
    assert sign_in(app.test_client(), "nv.an", "thứ hai 12345").status_code == 401
    (entry,) = audit_of(ctx, "password_set_by_link")
    assert entry.actor == "nv.an"
    (made_entry,) = audit_of(ctx, "password_link_created")
    assert made_entry.actor == "admin" and made.json["token"] not in str(made_entry.summary)


def test_a_set_password_link_expires_and_a_newer_one_replaces_it(api, app, ctx, clock):
    first = api("admin", "POST", "/api/users/dm.phuong7/password-link").json["token"]
    second = api("admin", "POST", "/api/users/dm.phuong7/password-link").json["token"]
    client = app.test_client()
    assert client.get(f"/password-link/{first}").status_code == 404  # replaced
    assert client.get(f"/password-link/{second}").status_code == 200
    clock.advance(password_links.LINK_LIFETIME + timedelta(seconds=1))
    assert client.get(f"/password-link/{second}").status_code == 404  # expired
    with pytest.raises(Exception, match="hết hạn"):
        password_links.use_link(ctx, second, "một mật khẩu dài")
    assert app.test_client().get("/password-link/not-a-token").status_code == 404


def test_no_link_for_a_deactivated_user_and_deactivating_lapses_one(api, app):
    token = api("admin", "POST", "/api/users/dm.tanxuan/password-link").json["token"]
    api("admin", "PATCH", "/api/users/dm.tanxuan", json={"active": False})
    assert app.test_client().get(f"/password-link/{token}").status_code == 404
    assert api("admin", "POST", "/api/users/dm.tanxuan/password-link").status_code == 404


def test_an_admin_sets_a_password_and_ends_sessions(api, app, ctx):
    browser = app.test_client()
    sign_in(browser, "dm.batri")
    assert api("admin", "GET", "/api/users?q=dm.batri").json["items"][0]["open_sessions"] == 1
    assert api("admin", "POST", "/api/users/dm.batri/password", json={"password": "short"}).status_code == 422
    answer = api("admin", "POST", "/api/users/dm.batri/password", json={"password": "một mật khẩu mới"})
    assert answer.status_code == 200 and answer.json["open_sessions"] == 0
    assert browser.get("/inbox").status_code == 302
    assert sign_in(app.test_client(), "dm.batri", "một mật khẩu mới").status_code == 302
    assert api("admin", "POST", "/api/users/dm.batri/end-sessions").json == {"ended": 1}
    assert api("admin", "POST", "/api/users/nobody.here/end-sessions").status_code == 404
    assert api("admin", "POST", "/api/users/nobody.here/password", json={"password": "long enough"}
               ).status_code == 404
    assert [e.summary["user"] for e in audit_of(ctx, "password_set")] == ["dm.batri"]


def test_tokens_are_issued_once_listed_without_their_value_and_revoked(api, ctx):
    issued = api("admin", "POST", "/api/tokens", json={"username": "dm.sotuphap", "name": "hệ thống một cửa"})
    assert issued.status_code == 201 and issued.json["token"].startswith("cddh_")
    value = issued.json["token"]
    headers = {"Authorization": f"Bearer {value}"}
    listed = api("admin", "GET", "/api/tokens")
    row = next(t for t in listed.json["items"] if t["id"] == issued.json["id"])
    assert row | {"issued_at": None} == {"id": issued.json["id"], "name": "hệ thống một cửa", "username": "dm.sotuphap",
                                         "full_name": row["full_name"], "issued_by": "admin",
                                         "issued_by_name": row["issued_by_name"], "issued_at": None, "revoked_at": None}
    assert value not in listed.get_data(as_text=True)
    from web import create_app
    client = create_app(ctx, {"TESTING": True, "SECRET_KEY": "t"}).test_client()
    assert client.get("/api/tasks", headers=headers).status_code == 200
    revoked = api("admin", "DELETE", f"/api/tokens/{issued.json['id']}")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get("/api/tasks", headers=headers).status_code == 401
    assert api("admin", "DELETE", f"/api/tokens/{issued.json['id']}").status_code == 409
    assert api("admin", "DELETE", "/api/tokens/999999").status_code == 404
    assert api("admin", "POST", "/api/tokens", json={"username": "nobody.here", "name": "x"}).status_code == 422
    assert api("admin", "POST", "/api/tokens", json={"username": "dm.sotuphap", "name": " "}).status_code == 422
    assert [e.summary["token_id"] for e in audit_of(ctx, "api_token_revoked")] == [issued.json["id"]]


@pytest.mark.parametrize("user", ["cv.hoa", "ld.vanphong", "dm.sotuphap", "pt.lan"])
def test_only_admins_manage_users_and_tokens(api, app, user):
    for method, path, body in [("GET", "/api/users", None), ("POST", "/api/users", NEW),
                               ("PATCH", "/api/users/dm.batri", {"active": False}),
                               ("POST", "/api/users/dm.batri/password-link", None),
                               ("POST", "/api/users/dm.batri/end-sessions", None),
                               ("POST", "/api/users/dm.batri/password", {"password": "long enough"}),
                               ("GET", "/api/tokens", None), ("POST", "/api/tokens", {"username": user, "name": "x"}),
                               ("DELETE", "/api/tokens/1", None)]:
        assert api(user, method, path, json=body).status_code == 403, (method, path)
    browser = app.test_client()
    sign_in(browser, user)
    for path in ("/admin/users", "/admin/users/dm.batri", "/admin/tokens"):
        assert browser.get(path).status_code == 403
    assert browser.post("/admin/users/dm.batri/active", data={"active": "0", "csrf_token": csrf_token(
        browser, "/inbox")}).status_code == 403


def test_the_pages_create_a_user_make_a_link_shown_once_and_refuse_bad_input(app, ctx):
    admin = app.test_client()
    sign_in(admin, "admin")
    token = csrf_token(admin, "/admin/users")
    refused = admin.post("/admin/users", data={"username": "nv.binh", "full_name": "Trần Bình", "unit": "so-tu-phap",
                                               "roles": ["no_such_role"], "csrf_token": token})
    assert refused.status_code == 422 and "no_such_role" in refused.get_data(as_text=True)
    made = admin.post("/admin/users", data={"username": "nv.binh", "full_name": "Trần Bình", "unit": "so-tu-phap",
                                            "roles": ["unit_focal_point"], "csrf_token": token})
    assert made.status_code == 303 and made.headers["Location"].endswith("/admin/users/nv.binh")
    page = admin.get("/admin/users/nv.binh").get_data(as_text=True)
    assert "Trần Bình" in page and "Sở Tư pháp" in page and "password-link-url" not in page
    assert "Đầu mối đơn vị" in page and "Role." not in page  # roles by name
    shown = admin.post("/admin/users/nv.binh/password-link", data={"csrf_token": token})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="([^"]+)" id="password-link-url"', shown.get_data(as_text=True)).group(1)
    assert "/password-link/" in link
    assert link not in admin.get("/admin/users/nv.binh").get_data(as_text=True)  # shown once
    edited = admin.post("/admin/users/nv.binh", data={"full_name": "Trần Văn Bình", "unit": "huyen-ba-tri",
                                                      "roles": ["unit_leader"], "reason": "", "csrf_token": token})
    assert edited.status_code == 303
    listed = admin.get("/admin/users?q=bình").get_data(as_text=True)
    assert "Trần Văn Bình" in listed and "UBND huyện Ba Tri" in listed
    off = admin.post("/admin/users/nv.binh/active", data={"active": "0", "reason": "thử", "csrf_token": token})
    assert off.status_code == 303
    assert admin.post("/admin/users/admin/active", data={"active": "0", "csrf_token": token}).status_code == 409
    issued = admin.post("/admin/tokens", data={"username": "dm.sotuphap", "name": "kết nối", "csrf_token": token})
    value = re.search(r'value="([^"]+)" id="issued-token-value"', issued.get_data(as_text=True)).group(1)
    assert value.startswith("cddh_") and value not in admin.get("/admin/tokens").get_data(as_text=True)
    token_id = api_tokens_for(ctx, "kết nối")
    assert admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 303
    assert admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 409


def api_tokens_for(ctx, name):
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(api_tokens.ApiToken.id).where(api_tokens.ApiToken.name == name))
