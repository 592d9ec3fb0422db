"""Admin pages for users, their sessions and API tokens (admins only), and the public page a one-time
set-password link opens. Each action calls the same use case as its JSON API twin (web/api/admin_users.py).

A secret (a set-password link, a token's value) is rendered once in the answer to the POST that made it,
never put in a flash message (the session cookie is signed, not encrypted) nor in a redirect; those
answers are not cached.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import access, password_links, token_admin, user_admin
from engine.regulation.organisation import Role

from .errors import status_of
from .i18n import error_text
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("admin_users", __name__)
_NO_STORE = {"Cache-Control": "no-store"}


def _ctx():
    return current_app.extensions["engine"]


@bp.get("/admin/users")
@allowed_if(access.may_administer)
def index():
    """Users by full name, searched by text, unit and status; the form to add one."""
    return _index()


@bp.post("/admin/users")
@allowed_if(access.may_administer)
def create():
    """Add a user (no password yet), then open their page."""
    form = request.form
    try:
        row = user_admin.create_user(_ctx(), username=form.get("username", ""), full_name=form.get("full_name", ""),
                                     unit=form.get("unit", ""), roles=form.getlist("roles"),
                                     email=form.get("email"), actor=g.actor.username)
    except (InvalidInput, Conflict) as error:
        return _index(error=error_text(error), typed=form), status_of(error)
    flash(_("admin_users.created", name=row.full_name))
    return redirect(url_for("admin_users.user_page", username=row.username), 303)


@bp.get("/admin/users/<username>")
@allowed_if(access.may_administer)
def user_page(username: str):
    """One user: edit, deactivate or reactivate, set a password, make a set-password link, end sessions."""
    return _user(username)


@bp.post("/admin/users/<username>")
@allowed_if(access.may_administer)
def edit(username: str):
    """Save the full name, e-mail, unit and roles, with the reason given."""
    form = request.form
    before = user_admin.get_user(_ctx(), username)
    try:
        after = user_admin.edit_user(_ctx(), username, actor=g.actor.username, full_name=form.get("full_name", ""),
                                     email=form.get("email"), unit=form.get("unit", ""), roles=form.getlist("roles"),
                                     reason=form.get("reason"))
    except (InvalidInput, Conflict) as error:
        return _user(username, error=error_text(error)), status_of(error)
    flash(_("admin_users.saved" if after != before else "admin_users.unchanged"))
    return redirect(url_for("admin_users.user_page", username=username), 303)


@bp.post("/admin/users/<username>/active")
@allowed_if(access.may_administer)
def set_active(username: str):
    """Deactivate (sessions end at once) or reactivate a user, with the reason given."""
    active = request.form.get("active") == "1"
    try:
        user_admin.edit_user(_ctx(), username, actor=g.actor.username, active=active, reason=request.form.get("reason"))
    except (InvalidInput, Conflict) as error:
        return _user(username, error=error_text(error)), status_of(error)
    flash(_("admin_users.reactivated" if active else "admin_users.deactivated"))
    return redirect(url_for("admin_users.user_page", username=username), 303)


@bp.post("/admin/users/<username>/password")
@allowed_if(access.may_administer)
def set_password(username: str):
    """Set the password the admin typed (never shown again); the user's sessions end."""
    row = user_admin.get_user(_ctx(), username)
    try:
        access.set_password(_ctx(), username, request.form.get("password", ""), g.actor.username)
    except InvalidInput as error:
        return _user(username, error=error_text(error)), status_of(error)
    flash(_("admin_users.password_set", name=row.full_name))
    return redirect(url_for("admin_users.user_page", username=username), 303)


@bp.post("/admin/users/<username>/password-link")
@allowed_if(access.may_administer)
def make_link(username: str):
    """Make a one-time set-password link and show it this once."""
    issued = password_links.create_link(_ctx(), username, g.actor.username)
    link = url_for("admin_users.password_link_page", token=issued.token, _external=True)
    return _user(username, link=link, link_expires=issued.expires_at), 200, _NO_STORE


@bp.post("/admin/users/<username>/end-sessions")
@allowed_if(access.may_administer)
def end_sessions(username: str):
    """End every open session of the user."""
    user_admin.get_user(_ctx(), username)
    ended = access.end_sessions(_ctx(), username, g.actor.username)
    flash(_("admin_users.sessions_ended", count=ended))
    return redirect(url_for("admin_users.user_page", username=username), 303)


@bp.get("/admin/tokens")
@allowed_if(access.may_administer)
def tokens():
    """Every API token, newest first; the form to issue one."""
    return _tokens()


@bp.post("/admin/tokens")
@allowed_if(access.may_administer)
def issue_token():
    """Issue a token and show its value this once."""
    try:
        issued = token_admin.issue_token(_ctx(), request.form.get("username", ""), request.form.get("name", ""),
                                         g.actor.username)
    except InvalidInput as error:
        return _tokens(error=error_text(error), typed=request.form), status_of(error)
    return _tokens(issued=issued), 200, _NO_STORE


@bp.post("/admin/tokens/<id:token_id>/revoke")
@allowed_if(access.may_administer)
def revoke_token(token_id: int):
    """Revoke a token: requests with it are refused from now on."""
    try:
        token_admin.revoke_token(_ctx(), token_id, g.actor.username)
    except Conflict as error:
        return _tokens(error=error_text(error)), status_of(error)
    flash(_("admin_tokens.revoked", id=token_id))
    return redirect(url_for("admin_users.tokens"), 303)


@bp.route("/password-link/<token>", methods=["GET", "POST"])
def password_link_page(token: str):
    """The page a set-password link opens, signed in or not: set the password once, then sign in."""
    try:
        holder = password_links.link_holder(_ctx(), token)
    except NotFound as error:
        return render_template("admin_users_password_link.html", error=error_text(error)), 404, _NO_STORE
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("again", ""):
            error = _("password_link.mismatch")
        else:
            try:
                password_links.use_link(_ctx(), token, password)
            except (InvalidInput, NotFound) as failure:
                error = error_text(failure)
            else:
                flash(_("password_link.done"))
                return redirect(url_for("auth.login"), 303)
    page = render_template("admin_users_password_link.html", holder=holder, error=error,
                           min_chars=access.PASSWORD_CHARS[0])
    return page, (422 if error else 200), _NO_STORE


def _index(error: str | None = None, typed=None):
    args = request.args
    try:
        found = user_admin.list_users(_ctx(), args.get("q", "")[:200], args.get("unit") or None,
                                      args.get("status") or None)
    except InvalidInput as failure:
        found, error = [], error or error_text(failure)
    return render_template("admin_users.html", users=found, units=user_admin.unit_choices(_ctx()), roles=list(Role),
                           error=error, typed=typed or {}, args=args)


def _user(username: str, error: str | None = None, link: str | None = None, link_expires=None):
    row = user_admin.get_user(_ctx(), username)
    return render_template("admin_users_edit.html", user=row, units=user_admin.unit_choices(_ctx()), roles=list(Role),
                           error=error, link=link, link_expires=link_expires,
                           link_hours=int(password_links.LINK_LIFETIME.total_seconds() // 3600),
                           min_chars=access.PASSWORD_CHARS[0])


def _tokens(error: str | None = None, issued=None, typed=None):
    people = [u for u in user_admin.list_users(_ctx(), status="active")]
    return render_template("admin_users_tokens.html", tokens=token_admin.list_tokens(_ctx()), people=people,
                           error=error, issued=issued, typed=typed or {})
