"""Who may see and do what: the one module that pages, the JSON API and the engine ask.

A request is made by an Actor, built once from the user's unit and roles. Two kinds of roles:
the roles a user *holds* authorize (only an Office specialist registers a document), the roles a
user *acts in* route work (a unit's focal point also follows the parts it delegated, so it acts in
the follower's lane). Unit scope: the Provincial Office, the PPC and admins act for every unit;
anyone else for their own unit and the units below it. The Office is the unit whose kind is
`provincial_office` in the organisation data, not a code in the program: after a reorganisation
its unit changes with the data.

Every question here is a plain function of the actor and what is asked about, so a page and the
API route that does the same thing give the same answer (tests/test_access_matrix.py).

Signing in: a password opens a session kept in the database (`sign_ins`), which signing out or an
admin ends; failed sign-ins are counted there too, so every process of the app shares the limit.
Role-addressed notifications reach the people acting in that role in the unit they name, and no one
else (`notice_recipients`, and `Actor.notice_units` for the in-app list).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.db import retried
from engine.core.errors import Forbidden, InvalidInput, NotFound
from engine.regulation import api_tokens, organisation, sign_ins
from engine.regulation.organisation import LANE_ROLES, Role, Unit, UnitKind, UserView

OFFICE_ROLES = frozenset({Role.TRACKING_SPECIALIST, Role.OFFICE_LEADER})
# Who may read the deployed diagrams and recent instances.
PROCESS_READERS = frozenset({Role.ADMIN, Role.PROCESS_ANALYST, *OFFICE_ROLES})
DIAGRAM_EDITORS = frozenset({Role.PROCESS_ANALYST, Role.ADMIN})
# Districts and agencies report a late department (Art. 16.4), and so may the units below them.
FEEDBACK_UNIT_KINDS = frozenset({UnitKind.DISTRICT, UnitKind.OTHER_AGENCY, UnitKind.COMMUNE, UnitKind.SUB_UNIT})
FEEDBACK_ROLES = frozenset({Role.UNIT_FOCAL_POINT, Role.UNIT_LEADER})
_PROVINCE_WIDE_KINDS = (UnitKind.PROVINCIAL_OFFICE, UnitKind.PROVINCIAL_PEOPLES_COMMITTEE)


@dataclass(frozen=True)
class Actor:
    """Who is asking, as every access question needs it."""

    user_id: int
    username: str
    full_name: str
    unit_code: str
    unit_name: str
    unit_kind: UnitKind
    held: frozenset[Role]                # the roles the user holds: these authorize
    roles: frozenset[str]                # the roles the user acts in: these route tasks (lanes)
    unit_codes: frozenset[str] | None    # the units acted for; None: every unit
    notice_units: frozenset[str]         # the units whose role-addressed notifications reach them: their
                                         # own, and the Office for its staff (its divisions included)

    @property
    def province_wide(self) -> bool:
        """True for the Office, the PPC and admins, who act for every unit."""
        return self.unit_codes is None


@dataclass(frozen=True)
class TrackedTaskAbilities:
    """What an actor may do on a tracked task's page."""

    request_update: bool
    update: bool
    delegate: bool


# --- who is asking ---------------------------------------------------------------------------

def actor_for(session: Session, user: UserView) -> Actor:
    """The Actor of a signed-in or token-bearing user."""
    tree = organisation.UnitTree(session)  # one query for what follows; this runs on every request
    office = _office_of(tree, user.unit_code)
    province_wide = user.unit_kind in _PROVINCE_WIDE_KINDS or office is not None or Role.ADMIN in user.roles
    own = frozenset(tree.subtree(user.unit_code))
    unit_name = tree.by_code[user.unit_code].name
    return Actor(user.id, user.username, user.full_name, user.unit_code, unit_name, user.unit_kind,
                 frozenset(user.roles),
                 frozenset(organisation.effective_roles(user)), None if province_wide else own,
                 frozenset({user.unit_code, office} - {None}))


def actor_named(ctx, username: str) -> Actor:
    """The Actor of an active user, or NotFound (deactivated since they signed in)."""
    with ctx.unit_of_work(readonly=True) as session:
        return actor_for(session, organisation.user_by_username(session, username))


@retried
def actor_for_token(ctx, token: str) -> Actor | None:
    """The Actor an API bearer token stands for, or None when it is unknown or revoked."""
    with ctx.unit_of_work(readonly=True) as session:
        user = api_tokens.user_for(session, token) if token else None
        return actor_for(session, user) if user is not None else None


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins counted in `window`: a username from one address; one address (any username);
    one username (any address: only addresses it has not signed in from lately are held back by it,
    so guessing from elsewhere does not lock a person out of their own desk)."""

    window: timedelta = timedelta(minutes=15)
    per_username_address: int = 5
    per_address: int = 30
    per_username: int = 50
    known_for: timedelta = timedelta(days=30)  # an address a user signed in from this lately is theirs


SIGN_IN_LIMITS = SignInLimits()
SESSION_LIFETIME = timedelta(hours=8)  # a working day, as the session cookie
PASSWORD_CHARS = (8, 1000)             # a set password's length; a longer one typed at sign-in is not hashed


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the Actor and the session token on success; `limited` when held back."""

    actor: Actor | None
    session_token: str | None = None
    limited: bool = False


def sign_in(ctx, username: str, password: str, address: str | None) -> SignIn:
    """Check a password unless too many sign-ins failed lately; audit the attempt; open a session on success.

    What is stored is cut to size first: the username to its column, the address to ADDRESS_CHARS.
    """
    name, address = username[:sign_ins.USERNAME_CHARS], sign_ins.cut_address(address)
    limits = SIGN_IN_LIMITS
    with ctx.unit_of_work() as session:
        now = ctx.now()
        if _held_back(session, name, address, now):
            return SignIn(None, limited=True)  # neither checked nor stored: a flood adds no rows
        user = None
        if len(name) == len(username) and len(password) <= PASSWORD_CHARS[1]:
            user = organisation.verify_password(session, name, password)
        summary = {"ip": address} if len(name) == len(username) else {"ip": address, "username_chars": len(username)}
        audit.record(session, at=now, actor=(name + ("…" if len(name) < len(username) else "")) or "?",
                     action="sign_in" if user else "sign_in_failed", summary=summary)
        sign_ins.forget(session, now - limits.window, now - limits.known_for)
        if user is None:
            sign_ins.record_failure(session, name, address, now)
            return SignIn(None)
        token = sign_ins.open_session(session, user.id, address, now, now + SESSION_LIFETIME)
        return SignIn(actor_for(session, user), token)


def _held_back(session: Session, username: str, address: str, now) -> bool:
    limits = SIGN_IN_LIMITS
    failed = sign_ins.failures_since(session, username, address, now - limits.window)
    if failed.pair >= limits.per_username_address:
        return True
    if failed.address < limits.per_address and failed.username < limits.per_username:
        return False
    return not sign_ins.known_address(session, username, address, now - limits.known_for)


def actor_for_session(ctx, token: str) -> Actor | None:
    """The Actor of a signed-in browser's session, or None when it ended, expired or the user was deactivated."""
    with ctx.unit_of_work(readonly=True) as session:
        username = sign_ins.session_username(session, token, ctx.now())
        try:
            return actor_for(session, organisation.user_by_username(session, username)) if username else None
        except NotFound:
            return None


def sign_out(ctx, token: str) -> None:
    """End the session (its cookie no longer works, even if kept); audited."""
    with ctx.unit_of_work() as session:
        username = sign_ins.end_session(session, token, ctx.now())
        if username is not None:
            audit.record(session, at=ctx.now(), actor=username, action="sign_out")


def end_sessions(ctx, username: str, by: str) -> int:
    """An admin ends every session of a user (they must sign in again); audited. How many were open."""
    with ctx.unit_of_work() as session:
        user = organisation.user_by_username(session, username, include_inactive=True)
        ended = sign_ins.end_sessions(session, user.id, ctx.now())
        audit.record(session, at=ctx.now(), actor=by, action="sessions_ended",
                     summary={"user": username, "sessions": ended})
        return ended


def set_password(ctx, username: str, password: str, by: str) -> None:
    """An admin sets a user's password (the user's open sessions end); audited, the password never."""
    shortest, longest = PASSWORD_CHARS
    if len(password) < shortest:
        raise InvalidInput("password_too_short", min=shortest)
    if len(password) > longest:
        raise InvalidInput("password_too_long", max=longest)
    with ctx.unit_of_work() as session:
        user = organisation.set_password(session, username, password)
        sign_ins.end_sessions(session, user.id, ctx.now())
        audit.record(session, at=ctx.now(), actor=by, action="password_set", summary={"user": username})


def office_units(session: Session) -> list[str]:
    """The Provincial Office (the unit of kind provincial_office) and the units below it."""
    codes = session.scalars(select(Unit.code).where(Unit.kind == UnitKind.PROVINCIAL_OFFICE).order_by(Unit.id))
    return [code for top in codes for code in organisation.subtree_codes(session, top)]


def office_unit(session: Session) -> str:
    """The code of the Provincial Office, which follows the top-level tasks (Art. 3.4)."""
    code = session.scalar(select(Unit.code).where(Unit.kind == UnitKind.PROVINCIAL_OFFICE, Unit.active.is_(True))
                          .order_by(Unit.id).limit(1))
    if code is None:
        raise NotFound("office_unit_missing")
    return code


def _office_of(tree: organisation.UnitTree, unit_code: str) -> str | None:
    """The Office (unit of kind provincial_office) a unit belongs to, itself or as one of its divisions."""
    offices = sorted((u for u in tree.by_code.values() if u.kind == UnitKind.PROVINCIAL_OFFICE), key=lambda u: u.id)
    return next((office.code for office in offices if unit_code in tree.subtree(office.code)), None)


# --- notifications ---------------------------------------------------------------------------
# A notification addressed to a role names a unit and reaches the people of that unit who act in the
# role (Actor.roles: a unit's focal point also follows the parts it delegated), the Office's divisions
# counting as the Office: never the units above or below, never the province at large. The Office's
# own notices name the Office. Read state is each person's own (notifications.NotificationRead).

def notice_recipients(session: Session, unit_code: str | None, role: str) -> list[int]:
    """The ids of the active users a notification to `role` in `unit_code` reaches (none for an unknown unit)."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
    if unit is None:
        return []
    # The Office's staff are the Office's, its divisions' included (as `actor_for` gives their notice units).
    codes = organisation.subtree_codes(session, unit.code) if unit.kind == UnitKind.PROVINCIAL_OFFICE else [unit.code]
    members = [user for code in codes for user in organisation.members(session, code)]
    return [user.id for user in members if role in organisation.effective_roles(user)]


def province_unit(session: Session, role: str) -> str | None:
    """The unit a role-addressed notice names when the work is the province's and no unit is assigned:
    the PPC for its leaders, else the Office (an active one first)."""
    kind = UnitKind.PROVINCIAL_PEOPLES_COMMITTEE if role == Role.PPC_LEADER.value else UnitKind.PROVINCIAL_OFFICE
    # Asked for every such notice of a step: read once per transaction (a reorganisation is its own).
    known = session.info.setdefault("province_units", {})
    if kind not in known:
        known[kind] = session.connection().execute(_province_unit_query(), {"kind": kind.value}).scalar()
    return known[kind]


@cache
def _province_unit_query():
    units = Unit.__table__
    return (select(units.c.code).where(units.c.kind == bindparam("kind"))
            .order_by(units.c.active.desc(), units.c.id).limit(1))


# --- ready tasks (the inbox) -----------------------------------------------------------------

def lanes_for(roles: frozenset[str]) -> list[str]:
    """The diagram lanes whose tasks people acting in these roles may act on (a lane names its role)."""
    return [role.value for role in LANE_ROLES if role.value in roles]


def may_act_on(actor: Actor, lane: str | None, assignee: str | None) -> bool:
    """Whether a ready task (its lane and assignee unit) is this actor's (the inbox's SQL rule)."""
    return lane in lanes_for(actor.roles) and (actor.unit_codes is None or assignee in actor.unit_codes)


# A claim is binding: a claimed task is completed (or released) only by the one who claimed it. A
# colleague who may act on the task takes it over explicitly (the inbox's "take over", audited with
# whom it was taken from), e.g. while the claimer is away; nobody completes it behind their back.

def may_complete(actor: Actor, claimed_by: str | None) -> bool:
    """Whether the actor may complete a ready task they may act on, given who has claimed it (if anyone)."""
    return claimed_by is None or claimed_by == actor.username


def may_take_over(actor: Actor, lane: str | None, assignee: str | None, claimed_by: str | None) -> bool:
    """Whether the actor may take over a task a colleague has claimed: anyone who may act on it."""
    return claimed_by not in (None, actor.username) and may_act_on(actor, lane, assignee)


# --- tracked tasks ---------------------------------------------------------------------------

def may_see_unit(actor: Actor, unit_code: str) -> bool:
    """Whether the actor may see a unit's tasks (their existence included)."""
    return actor.unit_codes is None or unit_code in actor.unit_codes


def abilities(actor: Actor, lead_unit: str, task_open: bool) -> TrackedTaskAbilities:
    """What the actor may do on a tracked task led by `lead_unit`, open or closed."""
    lead = actor.unit_code == lead_unit and Role.UNIT_FOCAL_POINT in actor.held
    return TrackedTaskAbilities(
        request_update=task_open and Role.TRACKING_SPECIALIST in actor.held and actor.province_wide,
        update=task_open and lead, delegate=task_open and lead)


# --- the Office's registers and the units' feedback -------------------------------------------

def may_register_documents(actor: Actor) -> bool:
    """The Provincial Office registers assigning documents."""
    return bool(actor.held & OFFICE_ROLES)


def may_follow_province(actor: Actor) -> bool:
    """The Office's own registers: feedback received, reporting rounds."""
    return bool(actor.held & OFFICE_ROLES)


def may_see_dashboard(actor: Actor) -> bool:
    """The dashboard: the Office, the PPC and admins for the province; a unit's leader and focal point for
    their unit and the units below it."""
    return bool(actor.held & _REPORT_READERS) or (actor.province_wide and bool(actor.held & _PROVINCE_READERS))


_REPORT_READERS = FEEDBACK_ROLES  # a unit's focal points and leaders: their subtree (`report_unit`)
_PROVINCE_READERS = frozenset({*OFFICE_ROLES, Role.PPC_LEADER, Role.ADMIN})


def dashboard_scope(actor: Actor, unit_code: str | None, province_code: str) -> str:
    """The unit whose dashboard the actor sees when asking for `unit_code` (None: the province for those
    who see it all, else their own unit); Forbidden when it is not theirs to see (a commune asking for the
    province, a department for another)."""
    if not may_see_dashboard(actor):
        raise Forbidden("dashboard_who")
    code = unit_code or (province_code if actor.province_wide else actor.unit_code)
    if not may_see_unit(actor, code):
        raise Forbidden("dashboard_not_yours")
    return code


def may_file_feedback(actor: Actor) -> bool:
    """A district, agency or a unit below one reports a late department (Art. 16.4)."""
    return actor.unit_kind in FEEDBACK_UNIT_KINDS and bool(actor.held & FEEDBACK_ROLES)


def may_report_on(actor: Actor, lead_unit: str, task_open: bool) -> bool:
    """Which tasks feedback may be filed on: open ones led by another unit than the actor's own (or one below
    it), whose lateness it suffers; a unit answers for its own tasks through its updates instead."""
    return may_file_feedback(actor) and task_open and not may_see_unit(actor, lead_unit)


def may_read_processes(actor: Actor) -> bool:
    """The deployed diagrams and recent instances."""
    return bool(actor.held & PROCESS_READERS)


def may_edit_diagrams(actor: Actor) -> bool:
    """Open the workbench: edit drafts, check and dry-run them, deploy versions, migrate instances, roll
    back. Analysts and admins only; every deploy, migration and roll-back is audited."""
    return bool(actor.held & DIAGRAM_EDITORS)


# --- the admin console ------------------------------------------------------------------------

def may_administer(actor: Actor) -> bool:
    """Change what admins keep right: timer settings, the calendar, the organisation, users, sessions,
    tokens, instances and incidents; every change is audited."""
    return Role.ADMIN in actor.held


def may_see_administration(actor: Actor) -> bool:
    """See the settings, the calendar, the organisation, instances and the audit log without changing
    them: admins, and the Provincial Office whose work they govern."""
    return Role.ADMIN in actor.held or bool(actor.held & OFFICE_ROLES)


# --- periodic reports, overdue lists and the heatmap (issue 14) --------------------------------

def may_see_reports(actor: Actor) -> bool:
    """The periodic reports, the overdue list and the heatmap: the Office, the PPC and admins for the province,
    a unit's focal points and leaders for its subtree (`report_unit` says which unit a request may name)."""
    return bool(actor.held & _REPORT_READERS) or (actor.province_wide and bool(actor.held & _PROVINCE_READERS))


_REPORT_READERS = FEEDBACK_ROLES  # a unit's focal points and leaders: their subtree (`report_unit`)
_PROVINCE_READERS = frozenset({*OFFICE_ROLES, Role.PPC_LEADER, Role.ADMIN})


def report_unit(actor: Actor, unit_code: str | None) -> str | None:
    """The unit whose report the actor asks for: None is the province's (province-wide actors only; anyone else
    gets their own unit); a unit outside the actor's subtree is Forbidden."""
    if not may_see_reports(actor):
        raise Forbidden("reports_not_yours")
    if not unit_code:
        return None if actor.province_wide else actor.unit_code
    if not may_see_unit(actor, unit_code):
        raise Forbidden("report_unit_not_yours")
    return unit_code
