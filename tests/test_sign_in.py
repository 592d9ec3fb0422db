"""Signing in and out: sessions end on the server, the sign-in limit lives in the database and cannot be
turned against someone else, and users seeded outside demo mode have no password until an admin sets one."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.app.bootstrap import open_context, seed_reference_data
from engine.core.audit import AuditEntry
from engine.core.config import Config
from engine.regulation import access, organisation
from engine.regulation.organisation import User
from tests.helpers import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, database_url, stdin=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def _from(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _signed_in(client) -> bool:
    return client.get("/inbox").status_code == 200


def _audit(ctx, action):
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# -- 9. sessions end on the server --------------------------------------------------------------------

def test_a_cookie_kept_from_before_sign_out_no_longer_works(app):
    client = app.test_client()
    assert sign_in(client, "dm.sotuphap").status_code == 302
    other_device = app.test_client()
    sign_in(other_device, "dm.sotuphap")
    kept = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    assert not _signed_in(client)
    replayed = app.test_client()
    replayed.set_cookie("session", kept)
    assert not _signed_in(replayed)          # the old cookie is refused: the session ended on the server
    assert _signed_in(other_device)          # signing out here does not end the user's other sessions


def test_an_admin_ends_a_users_sessions_from_the_command_line(app, shipped):
    client, colleague = app.test_client(), app.test_client()
    sign_in(client, "dm.sotuphap")
    sign_in(colleague, "ld.sotuphap")
    result = _run("users", "end-sessions", "dm.sotuphap", "--by", "admin", database_url=shipped.config.database_url)
    assert result.returncode == 0, result.stderr
    assert "1" in result.stdout
    assert not _signed_in(client) and _signed_in(colleague)
    [entry] = _audit(shipped, "sessions_ended")
    assert (entry.actor, entry.summary["user"], entry.summary["sessions"]) == ("admin", "dm.sotuphap", 1)
    unknown = _run("users", "end-sessions", "nobody", "--by", "admin", database_url=shipped.config.database_url)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr


def test_a_session_lasts_a_working_day(app, shipped):
    client = app.test_client()
    sign_in(client, "dm.sotuphap")
    shipped.clock.set(shipped.now() + timedelta(hours=7, minutes=59))
    assert _signed_in(client)
    shipped.clock.set(shipped.now() + timedelta(minutes=2))
    assert not _signed_in(client)


# -- 10. the sign-in limit --------------------------------------------------------------------------

def test_a_huge_username_is_cut_before_it_is_stored(ctx):
    huge = "x" * 5_000_000
    for _ in range(5):
        assert access.sign_in(ctx, huge, "demo123", "203.0.113.9").actor is None
    entries = _audit(ctx, "sign_in_failed")
    assert len(entries) == 5
    assert all(len(e.actor) <= 120 and len(str(e.summary)) < 500 for e in entries)
    assert access.sign_in(ctx, "dm.sotuphap", "p" * 5_000_000, "203.0.113.10").actor is None  # not hashed


def test_a_huge_username_through_the_form_is_refused_and_cut(client, shipped):
    token = csrf_token(client)
    response = client.post("/login", data={"username": "y" * 400_000, "password": "x", "csrf_token": token})
    assert response.status_code == 401
    [entry] = _audit(shipped, "sign_in_failed")
    assert len(entry.actor) <= 120


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_elsewhere(app):
    attacker = _from(app.test_client(), "198.51.100.7")
    for _ in range(5):
        assert sign_in(attacker, "dm.sotuphap", "guess").status_code == 401
    assert sign_in(attacker, "dm.sotuphap").status_code == 429      # that address is done for this user
    owner = _from(app.test_client(), "10.1.2.3")
    assert sign_in(owner, "dm.sotuphap").status_code == 302          # the user, from their own desk
    assert sign_in(_from(app.test_client(), "198.51.100.7"), "ld.sotuphap").status_code == 302


def test_the_limit_is_shared_by_every_process_of_the_app(app, shipped):
    from web import create_app

    second_ctx = open_context(Config(database_url=shipped.config.database_url, deploy_on_start=False), shipped.clock)
    try:
        second = create_app(second_ctx, {"TESTING": True, "SECRET_KEY": "test"})   # another worker process
        for number in range(5):
            process = app if number % 2 else second
            assert sign_in(_from(process.test_client(), "198.51.100.7"), "dm.sotuphap", "guess").status_code == 401
        assert sign_in(_from(app.test_client(), "198.51.100.7"), "dm.sotuphap").status_code == 429
        assert sign_in(_from(second.test_client(), "198.51.100.7"), "dm.sotuphap").status_code == 429
    finally:
        second_ctx.db.dispose()


def test_many_addresses_guessing_one_password_are_stopped_but_the_user_still_gets_in(ctx):
    assert access.sign_in(ctx, "dm.sotuphap", "demo123", "10.1.2.3").actor is not None   # the user's desk
    limit = access.SIGN_IN_LIMITS.per_username
    for n in range(limit):
        assert access.sign_in(ctx, "dm.sotuphap", "guess", f"198.51.{n // 250}.{n % 250}").actor is None
    refused = access.sign_in(ctx, "dm.sotuphap", "demo123", "192.0.2.200")   # a new address: held back
    assert refused.limited and refused.actor is None
    assert access.sign_in(ctx, "dm.sotuphap", "demo123", "10.1.2.3").actor is not None   # a known one is not


def test_one_address_trying_many_usernames_is_stopped(ctx):
    for n in range(access.SIGN_IN_LIMITS.per_address):
        assert access.sign_in(ctx, f"user{n}", "guess", "198.51.100.7").actor is None
    assert access.sign_in(ctx, "dm.sotuphap", "demo123", "198.51.100.7").limited


def test_old_failures_are_forgotten_and_their_rows_removed(ctx):
    for _ in range(5):
        access.sign_in(ctx, "dm.sotuphap", "guess", "198.51.100.7")
    assert access.sign_in(ctx, "dm.sotuphap", "demo123", "198.51.100.7").limited
    ctx.clock.set(ctx.now() + access.SIGN_IN_LIMITS.window + timedelta(seconds=1))
    assert access.sign_in(ctx, "dm.sotuphap", "demo123", "198.51.100.7").actor is not None
    from engine.regulation.sign_ins import SignInFailure

    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 0


# -- 12. no demo password outside demo mode ---------------------------------------------------------

@pytest.mark.parametrize("demo", [False, True])
def test_seeded_users_get_the_demo_password_only_in_demo_mode(database_url, clock, demo):
    ctx = open_context(Config(database_url=database_url, deploy_on_start=False, demo_data=demo), clock)
    try:
        seed_reference_data(ctx)
        with ctx.unit_of_work(readonly=True) as session:
            hashes = list(session.scalars(select(User.password_hash)))
            signed = organisation.verify_password(session, "dm.sotuphap", "demo123")
        assert len(hashes) > 10
        assert all(hashes) if demo else not any(hashes)
        assert (signed is not None) is demo
    finally:
        ctx.db.dispose()


def test_an_admin_sets_a_password_from_standard_input(app, shipped):
    url = shipped.config.database_url
    client = app.test_client()
    sign_in(client, "dm.sotuphap")
    result = _run("users", "set-password", "dm.sotuphap", "--by", "admin", database_url=url,
                  stdin="Mật-khẩu mới 2025\n")
    assert result.returncode == 0, result.stderr
    assert "Mật-khẩu" not in result.stdout + result.stderr
    assert not _signed_in(client)                                   # a new password ends the old sessions
    assert sign_in(app.test_client(), "dm.sotuphap").status_code == 401
    assert sign_in(app.test_client(), "dm.sotuphap", "Mật-khẩu mới 2025").status_code == 302
    [entry] = _audit(shipped, "password_set")
    assert (entry.actor, entry.summary) == ("admin", {"user": "dm.sotuphap"})
    short = _run("users", "set-password", "dm.sotuphap", database_url=url, stdin="short\n")
    assert short.returncode == 1 and "Traceback" not in short.stderr and "8" in short.stderr
    assert _run("users", "set-password", "dm.sotuphap", database_url=url, stdin="").returncode == 1
