"""The organisation as data: the 2023 Bến Tre seed, sign-in, scoping and an admin's restructuring."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.core.audit import AuditEntry
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import organisation as org
from engine.regulation.organisation import Role, Unit, UnitKind, User

SEED = Path(__file__).resolve().parent.parent / "processes" / "org" / "ben-tre-2023.json"
DISTRICTS_2023 = {"UBND thành phố Bến Tre", "UBND huyện Châu Thành", "UBND huyện Chợ Lách",
                  "UBND huyện Mỏ Cày Nam", "UBND huyện Mỏ Cày Bắc", "UBND huyện Giồng Trôm",
                  "UBND huyện Bình Đại", "UBND huyện Ba Tri", "UBND huyện Thạnh Phú"}


@pytest.fixture
def seeded(ctx):
    """The demo organisation in the database (bootstrap may have seeded it already: seeding is idempotent)."""
    with ctx.unit_of_work() as session:
        return org.seed_organisation(session, SEED, ctx.now())


def _audit(ctx, action):
    with ctx.unit_of_work(readonly=True) as session:
        return [entry.summary | {"actor": entry.actor}
                for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def test_the_seed_is_the_2023_structure_with_every_role(ctx, seeded):
    raw = json.loads(SEED.read_text(encoding="utf-8"))
    units = org.list_units(ctx)
    assert {u.code for u in units} == {item["code"] for item in raw["units"]}
    with ctx.unit_of_work(readonly=True) as session:
        assert set(session.scalars(select(User.username))) == {item["username"] for item in raw["users"]}
    by_kind = {kind: [u for u in units if u.kind is kind] for kind in UnitKind}
    assert len(by_kind[UnitKind.DEPARTMENT]) >= 15
    assert {u.name for u in by_kind[UnitKind.DISTRICT]} == DISTRICTS_2023
    assert [u.code for u in by_kind[UnitKind.PROVINCIAL_PEOPLES_COMMITTEE]] == ["ubnd-tinh"]
    assert any(u.code == "vp-ubnd" for u in by_kind[UnitKind.PROVINCIAL_OFFICE])
    assert by_kind[UnitKind.OTHER_AGENCY] and by_kind[UnitKind.COMMUNE] and by_kind[UnitKind.SUB_UNIT]
    # Every unit climbs to the one root, and list_units gives parents before children.
    by_code, listed = {u.code: u for u in units}, set()
    for unit in units:
        assert unit.parent_code is None or unit.parent_code in listed
        listed.add(unit.code)
        node, steps = unit, 0
        while node.parent_code is not None and steps <= len(units):
            node, steps = by_code[node.parent_code], steps + 1
        assert node.code == "ubnd-tinh"
    assert all(by_code[u.parent_code].kind is UnitKind.DISTRICT for u in by_kind[UnitKind.COMMUNE])
    with ctx.unit_of_work(readonly=True) as session:
        for role in Role:
            assert session.scalar(select(func.count()).select_from(org.UserRole).where(org.UserRole.role == role))
        tracking = org.holders(session, "vp-ubnd", Role.TRACKING_SPECIALIST)
        assert len(tracking) >= 2 and org.holders(session, "vp-ubnd", Role.OFFICE_LEADER)
        assert org.holders(session, "ubnd-tinh", Role.PPC_LEADER)
        for kind, least in ((UnitKind.DEPARTMENT, 4), (UnitKind.DISTRICT, 3), (UnitKind.COMMUNE, 2)):
            staffed = [u for u in by_kind[kind] if org.holders(session, u.code, Role.UNIT_FOCAL_POINT)
                       and org.holders(session, u.code, Role.UNIT_LEADER)]
            assert len(staffed) >= least, kind


def test_seeding_twice_inserts_nothing_and_keeps_changes(ctx, seeded):
    org.move_unit(ctx, "tt-ba-tri", "ubnd-tinh", actor="admin")
    with ctx.unit_of_work() as session:
        assert org.seed_organisation(session, SEED, ctx.now()) == {"units": 0, "users": 0}
        assert org.unit_by_code(session, "tt-ba-tri").parent_id == org.unit_by_code(session, "ubnd-tinh").id


def test_seed_inserts_parents_first_and_only_what_is_missing(ctx, seeded, tmp_path):
    extra = tmp_path / "org.json"
    extra.write_text(json.dumps({"demo_password": "demo123", "units": [
        {"code": "xa-an-duc-ba-tri", "name": "UBND xã An Đức", "kind": "commune", "parent": "huyen-moi"},
        {"code": "huyen-moi", "name": "UBND huyện mới", "kind": "district", "parent": "ubnd-tinh"},
        {"code": "tt-ba-tri", "name": "renamed?", "kind": "commune", "parent": "huyen-moi"}], "users": [
        {"username": "dm.anduc", "full_name": "Nguyễn Văn A", "unit": "xa-an-duc-ba-tri",
         "roles": ["unit_focal_point"]},
        {"username": "dm.batri", "full_name": "someone else", "unit": "huyen-moi", "roles": ["admin"]}]}))
    for expected in ({"units": 2, "users": 1}, {"units": 0, "users": 0}):
        with ctx.unit_of_work() as session:
            assert org.seed_organisation(session, extra, ctx.now(), demo=True) == expected
    with ctx.unit_of_work(readonly=True) as session:
        assert org.subtree_codes(session, "huyen-moi") == ["huyen-moi", "xa-an-duc-ba-tri"]
        assert org.unit_by_code(session, "tt-ba-tri").name == "UBND thị trấn Ba Tri (huyện Ba Tri)"
        assert org.user_by_username(session, "dm.batri").roles == frozenset({Role.UNIT_FOCAL_POINT})
        assert org.verify_password(session, "dm.anduc", "demo123").unit_code == "xa-an-duc-ba-tri"


@pytest.mark.parametrize("units, users, message", [
    ([], [{"username": "u", "full_name": "U", "unit": "nowhere", "roles": []}], "nowhere"),
    ([{"code": "a-1", "name": "A", "kind": "commune", "parent": "b-1"},
      {"code": "b-1", "name": "B", "kind": "district", "parent": "a-1"}], [], "a-1, b-1"),
    ([{"code": "a-1", "name": "A", "kind": "village", "parent": None}], [], "loại đơn vị 'village'"),
])
def test_seed_refuses_a_broken_file(ctx, tmp_path, units, users, message):
    bad = tmp_path / "org.json"
    bad.write_text(json.dumps({"demo_password": "x", "units": units, "users": users}))
    with pytest.raises(InvalidInput, match=message), ctx.unit_of_work() as session:
        org.seed_organisation(session, bad, ctx.now())


def test_verify_password(ctx, seeded):
    with ctx.unit_of_work(readonly=True) as session:
        user = org.verify_password(session, "dm.sotuphap", "demo123")
        assert user is not None and user.unit_code == "so-tu-phap" and user.unit_kind is UnitKind.DEPARTMENT
        assert user.roles == frozenset({Role.UNIT_FOCAL_POINT}) and user.full_name
        assert org.verify_password(session, "dm.sotuphap", "demo124") is None
        assert org.verify_password(session, "dm.sotuphap", "") is None
        assert org.verify_password(session, "nobody", "demo123") is None
        assert org.user_by_username(session, "cv.hoa").roles == frozenset({Role.TRACKING_SPECIALIST})
        with pytest.raises(NotFound, match="nobody"):
            org.user_by_username(session, "nobody")
    with ctx.unit_of_work() as session:
        session.scalar(select(User).where(User.username == "dm.sotuphap")).active = False
    with ctx.unit_of_work(readonly=True) as session:
        assert org.verify_password(session, "dm.sotuphap", "demo123") is None
        assert org.holders(session, "so-tu-phap", Role.UNIT_FOCAL_POINT) == []
        with pytest.raises(NotFound):
            org.user_by_username(session, "dm.sotuphap")
        assert org.user_by_username(session, "dm.sotuphap", include_inactive=True).username == "dm.sotuphap"


def test_passwords_are_hashed(ctx, seeded):
    with ctx.unit_of_work(readonly=True) as session:
        hashes = set(session.scalars(select(User.password_hash)))
    assert hashes and all(h and "demo123" not in h for h in hashes)


def test_subtree_and_holders(ctx, seeded):
    with ctx.unit_of_work(readonly=True) as session:
        ba_tri = org.subtree_codes(session, "huyen-ba-tri")
        assert ba_tri[0] == "huyen-ba-tri"
        assert {"tt-ba-tri", "xa-tan-xuan-ba-tri", "batri-phong-nnptnt"} <= set(ba_tri)
        assert "tp-ben-tre" not in ba_tri and len(ba_tri) == len(set(ba_tri))
        assert org.subtree_codes(session, "xa-tan-xuan-ba-tri") == ["xa-tan-xuan-ba-tri"]
        assert len(org.subtree_codes(session, "ubnd-tinh")) == len(org.list_units(ctx))
        with pytest.raises(NotFound, match="huyen-khong-co"):
            org.subtree_codes(session, "huyen-khong-co")
        focal = org.holders(session, "so-tu-phap", Role.UNIT_FOCAL_POINT)
        assert [u.username for u in focal] == ["dm.sotuphap"]
        assert [u.username for u in org.holders(session, "so-tu-phap", "unit_leader")] == ["ld.sotuphap"]
        assert org.holders(session, "so-y-te", Role.UNIT_FOCAL_POINT) == []
        with pytest.raises(InvalidInput):
            org.holders(session, "so-tu-phap", "boss")


def test_move_unit_refuses_a_cycle_and_changes_nothing(ctx, seeded):
    before = org.list_units(ctx)
    with pytest.raises(Conflict, match="đơn vị đó trực thuộc"):
        org.move_unit(ctx, "huyen-ba-tri", "xa-tan-xuan-ba-tri", actor="admin")
    with pytest.raises(Conflict, match="đơn vị đó trực thuộc"):
        org.move_unit(ctx, "ubnd-tinh", "tt-ba-tri", actor="admin")
    with pytest.raises(Conflict, match="cấp trên của chính nó"):
        org.move_unit(ctx, "huyen-ba-tri", "huyen-ba-tri", actor="admin")
    with pytest.raises(NotFound):
        org.move_unit(ctx, "huyen-ba-tri", "khong-co", actor="admin")
    assert org.list_units(ctx) == before
    assert _audit(ctx, "unit_moved") == []


def test_2025_restructuring_communes_under_the_ppc_then_the_district_goes(ctx, seeded):
    with pytest.raises(Conflict, match="tt-ba-tri"):
        org.deactivate_unit(ctx, "huyen-ba-tri", actor="admin")
    for code in org.list_units(ctx):
        if code.parent_code == "huyen-ba-tri":
            moved = org.move_unit(ctx, code.code, "ubnd-tinh", actor="admin")
            assert moved.parent_code == "ubnd-tinh"
    gone = org.deactivate_unit(ctx, "huyen-ba-tri", actor="admin")
    assert gone.active is False and gone.parent_code == "ubnd-tinh"
    with pytest.raises(Conflict, match="'huyen-ba-tri' đã ngừng hoạt động$"):
        org.deactivate_unit(ctx, "huyen-ba-tri", actor="admin")
    with pytest.raises(Conflict, match="ngừng hoạt động"):
        org.move_unit(ctx, "tt-ba-tri", "huyen-ba-tri", actor="admin")
    with ctx.unit_of_work(readonly=True) as session:
        assert org.subtree_codes(session, "huyen-ba-tri") == ["huyen-ba-tri"]
        assert "tt-ba-tri" in org.subtree_codes(session, "ubnd-tinh")
        assert org.verify_password(session, "dm.batri", "demo123") is None  # the district's staff are out
        assert org.verify_password(session, "dm.ttbatri", "demo123").unit_code == "tt-ba-tri"
        assert org.holders(session, "huyen-ba-tri", Role.UNIT_FOCAL_POINT) == []
    moves = _audit(ctx, "unit_moved")
    assert {"unit": "tt-ba-tri", "from": "huyen-ba-tri", "to": "ubnd-tinh", "actor": "admin"} in moves
    assert len(moves) == 3
    assert _audit(ctx, "unit_deactivated") == [{"unit": "huyen-ba-tri", "had_active_users": True, "actor": "admin"}]


def test_add_unit(ctx, seeded):
    added = org.add_unit(ctx, "xa-an-duc-ba-tri", "UBND xã An Đức (huyện Ba Tri)", "commune", "huyen-ba-tri", "admin")
    assert (added.code, added.kind, added.parent_code, added.active) == (
        "xa-an-duc-ba-tri", UnitKind.COMMUNE, "huyen-ba-tri", True)
    with ctx.unit_of_work(readonly=True) as session:
        assert "xa-an-duc-ba-tri" in org.subtree_codes(session, "huyen-ba-tri")
    assert _audit(ctx, "unit_added") == [{"unit": "xa-an-duc-ba-tri", "name": "UBND xã An Đức (huyện Ba Tri)",
                                          "kind": "commune", "parent": "huyen-ba-tri", "actor": "admin"}]
    root = org.add_unit(ctx, "ubnd-tinh-vinh-long", "UBND tỉnh Vĩnh Long", UnitKind.PROVINCIAL_PEOPLES_COMMITTEE,
                        None, "admin")
    assert root.parent_code is None


@pytest.mark.parametrize("code, kind, error", [
    ("Xa-An-Duc", "commune", InvalidInput),          # upper case
    ("xã-an-đức", "commune", InvalidInput),          # not ASCII
    ("x", "commune", InvalidInput),                  # too short
    ("a" * 61, "commune", InvalidInput),             # too long
    ("xa an duc", "commune", InvalidInput),          # space
    ("xa-an-duc\n", "commune", InvalidInput),        # trailing newline
    ("xa-an-duc", "village", InvalidInput),          # no such kind
    ("tt-ba-tri", "commune", Conflict),              # duplicate code
])
def test_add_unit_validation(ctx, seeded, code, kind, error):
    before = org.list_units(ctx)
    with pytest.raises(error):
        org.add_unit(ctx, code, "UBND xã An Đức", kind, "huyen-ba-tri", "admin")
    assert org.list_units(ctx) == before and _audit(ctx, "unit_added") == []


def test_add_unit_needs_a_name_and_an_active_known_parent(ctx, seeded):
    with pytest.raises(InvalidInput):
        org.add_unit(ctx, "xa-moi", "   ", "commune", "huyen-ba-tri", "admin")
    with pytest.raises(NotFound, match="huyen-khong-co"):
        org.add_unit(ctx, "xa-moi", "Xã mới", "commune", "huyen-khong-co", "admin")
    org.deactivate_unit(ctx, "stc-phong-qlns", "admin")
    with pytest.raises(Conflict, match="ngừng hoạt động"):
        org.add_unit(ctx, "to-moi", "Tổ mới", "sub_unit", "stc-phong-qlns", "admin")


def test_unit_by_code(ctx, seeded):
    with ctx.unit_of_work(readonly=True) as session:
        assert org.unit_by_code(session, "so-tu-phap").name == "Sở Tư pháp"
        with pytest.raises(NotFound, match="không có đơn vị mã 'so-khong-co'"):
            org.unit_by_code(session, "so-khong-co")
        assert isinstance(org.unit_by_code(session, "ubnd-tinh"), Unit)
