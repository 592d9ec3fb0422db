"""API: users (list, create, edit, deactivate, set a password, a one-time set-password link, end their
sessions) and API tokens (list, issue, revoke). Admins only (`access.may_administer`), as the pages
(web/admin_users.py), which call the same use cases."""
from __future__ import annotations

from flask import g, jsonify, request, url_for

from engine.regulation import access, password_links, token_admin, user_admin
from engine.regulation.organisation import Role
from engine.regulation.token_admin import TokenRow
from engine.regulation.user_admin import UserRow

from ..inputs import ID_MAX
from . import body_matching, bp, ctx, forbid_unless, to_json
from .openapi import DATE_TIME, ID, STRING, _operation, _path, _query, enum_of, nullable, obj, schema_of

_ADMINS = "users_admins_only"
USERNAME = {"type": "string", "pattern": user_admin.USERNAME.pattern, "maxLength": 100}
ROLES = {"type": "array", "items": enum_of(Role), "maxItems": len(Role)}
TEXT = {"type": "string", "minLength": 1, "maxLength": 300}
NEW_USER = obj(("username", "full_name", "unit", "roles"), username=USERNAME, full_name=TEXT,
               unit={**TEXT, "description": "the unit's name (or its code)"}, roles=ROLES,
               email=nullable({"type": "string", "maxLength": 300}))
USER_CHANGES = obj(full_name=TEXT, unit={**TEXT, "description": "the unit's name (or its code)"}, roles=ROLES,
                   email=nullable({"type": "string", "maxLength": 300}), active={"type": "boolean"},
                   reason=nullable({"type": "string", "maxLength": user_admin.REASON_CHARS}))
PASSWORD = obj(("password",), password={"type": "string", "minLength": 1, "maxLength": access.PASSWORD_CHARS[1]})
NEW_TOKEN = obj(("username", "name"), username={"type": "string", "minLength": 1, "maxLength": 100},
                name={"type": "string", "minLength": 1, "maxLength": token_admin.NAME_CHARS})

USER = schema_of(UserRow)
USERS = obj(("items",), items={"type": "array", "items": USER})
LINK = obj(("username", "url", "token", "expires_at"), username=STRING, url=STRING, token=STRING,
           expires_at=DATE_TIME)
TOKEN = schema_of(TokenRow)
TOKENS = obj(("items",), items={"type": "array", "items": TOKEN})
ISSUED = obj(("id", "token", "username"), id=ID, token=STRING, username=STRING)


@bp.get("/users")
def list_users():
    """Users by full name, filtered by text (q), unit (name or code) and status (active, inactive)."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    found = user_admin.list_users(ctx(), request.args.get("q", "")[:200], request.args.get("unit") or None,
                                  request.args.get("status") or None)
    return jsonify(items=to_json(found))


@bp.post("/users")
def create_user():
    """Create a user without a password (set one, or make a set-password link): 201 with the user."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    body = body_matching(NEW_USER)
    row = user_admin.create_user(ctx(), username=body["username"], full_name=body["full_name"], unit=body["unit"],
                                 roles=body["roles"], email=body.get("email"), actor=g.actor.username)
    return jsonify(to_json(row)), 201


@bp.patch("/users/<username>")
def edit_user(username: str):
    """Change a user's full name, unit, roles, e-mail or active state (with a reason): the user as it is now."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    body = body_matching(USER_CHANGES)
    changes = {k: body[k] for k in ("full_name", "unit", "roles", "email", "active") if k in body}
    row = user_admin.edit_user(ctx(), username, actor=g.actor.username, reason=body.get("reason"), **changes)
    return jsonify(to_json(row))


@bp.post("/users/<username>/password")
def set_password(username: str):
    """Set a user's password (never shown again); their open sessions end."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    body = body_matching(PASSWORD)
    user_admin.get_user(ctx(), username)  # an unknown user is 404, before the password's length is judged
    access.set_password(ctx(), username, body["password"], g.actor.username)
    return jsonify(to_json(user_admin.get_user(ctx(), username)))


@bp.post("/users/<username>/password-link")
def password_link(username: str):
    """A one-time set-password link for an active user (shown this once): 201."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    issued = password_links.create_link(ctx(), username, g.actor.username)
    return jsonify(username=issued.username, token=issued.token, expires_at=issued.expires_at.isoformat(),
                   url=url_for("admin_users.password_link_page", token=issued.token, _external=True)), 201


@bp.post("/users/<username>/end-sessions")
def end_sessions(username: str):
    """End every open session of a user (they sign in again): how many were open."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    user_admin.get_user(ctx(), username)
    return jsonify(ended=access.end_sessions(ctx(), username, g.actor.username))


@bp.get("/tokens")
def list_tokens():
    """Every API token, newest first (never its value)."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    return jsonify(items=to_json(token_admin.list_tokens(ctx())))


@bp.post("/tokens")
def issue_token():
    """Issue a token acting for an active user: 201 with its value, shown this once."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    body = body_matching(NEW_TOKEN)
    issued = token_admin.issue_token(ctx(), body["username"], body["name"], g.actor.username)
    return jsonify(id=issued.id, token=issued.token, username=issued.username), 201


@bp.delete("/tokens/<id:token_id>")
def revoke_token(token_id: int):
    """Revoke a token: requests with it are refused (401) from now on."""
    forbid_unless(access.may_administer(g.actor), _ADMINS)
    return jsonify(to_json(token_admin.revoke_token(ctx(), token_id, g.actor.username)))


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    user = [_path("username", {"type": "string", "minLength": 1})]
    return {
        "/api/users": {
            "get": _operation("Users by full name (admins)", (200, USERS), 403, 422, parameters=[
                _query("q", STRING), _query("unit", STRING),
                _query("status", {"type": "string", "enum": ["active", "inactive"]})]),
            "post": _operation("Create a user, unit by name, without a password (admins); 409 when the username is "
                               "taken, 422 for an unknown unit or role", (201, USER), 403, 409, body=NEW_USER)},
        "/api/users/{username}": {"patch": _operation(
            "Change a user's full name, unit, roles, e-mail or active state, with a reason (admins); deactivating "
            "ends their sessions; 409 for deactivating oneself or dropping one's own admin role", (200, USER),
            403, 404, 409, parameters=user, body=USER_CHANGES)},
        "/api/users/{username}/password": {"post": _operation(
            "Set a user's password (admins); their open sessions end", (200, USER), 403, 404, parameters=user,
            body=PASSWORD)},
        "/api/users/{username}/password-link": {"post": _operation(
            "A one-time set-password link for an active user, valid 72 hours, shown this once (admins)",
            (201, LINK), 403, 404, parameters=user)},
        "/api/users/{username}/end-sessions": {"post": _operation(
            "End every open session of a user (admins)", (200, obj(("ended",), ended={"type": "integer"})),
            403, 404, parameters=user)},
        "/api/tokens": {
            "get": _operation("Every API token, newest first, never its value (admins)", (200, TOKENS), 403),
            "post": _operation("Issue a token acting for an active user; its value is shown this once (admins)",
                               (201, ISSUED), 403, body=NEW_TOKEN)},
        "/api/tokens/{token_id}": {"delete": _operation(
            "Revoke a token (admins); 409 when it was revoked already", (200, TOKEN), 403, 404, 409,
            parameters=[_path("token_id", {"type": "integer", "minimum": 1, "maximum": ID_MAX})])},
    }
