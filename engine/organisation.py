"""The organisation as data: units in a tree, users in units, roles; nothing here is code-bound.

In 2025 Bến Tre merged into Vĩnh Long and the district tier was abolished: an admin restructures
by editing these rows (move a unit, deactivate one), never by changing code.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, enum_column


class UnitKind(str, enum.Enum):
    """What kind of body a unit is (Art. 1 of the Regulation as amended)."""

    PROVINCIAL_PEOPLES_COMMITTEE = "ppc"          # UBND tỉnh (its leadership)
    PROVINCIAL_OFFICE = "provincial_office"      # Văn phòng UBND tỉnh
    DEPARTMENT = "department"                    # sở, ban, ngành tỉnh
    DISTRICT = "district"                        # UBND huyện, thành phố
    SUB_UNIT = "sub_unit"                        # phòng, ban, đơn vị trực thuộc
    COMMUNE = "commune"                          # UBND xã, phường, thị trấn
    OTHER_AGENCY = "other_agency"                # cơ quan, tổ chức khác


class Role(str, enum.Enum):
    """What a user may do (BRIEF, actors and roles)."""

    TRACKING_SPECIALIST = "tracking_specialist"  # chuyên viên theo dõi (Văn phòng)
    OFFICE_LEADER = "office_leader"              # Chánh / Phó Chánh Văn phòng
    PPC_LEADER = "ppc_leader"                    # Chủ tịch / Phó Chủ tịch UBND tỉnh
    UNIT_FOCAL_POINT = "unit_focal_point"        # đầu mối đơn vị
    UNIT_LEADER = "unit_leader"                  # thủ trưởng đơn vị
    PROCESS_ANALYST = "process_analyst"
    ADMIN = "admin"


# Diagrams name lanes in Vietnamese for the people who read them; this is the one place that
# says which role each lane stands for.
LANE_ROLES: dict[str, Role] = {
    "Chuyên viên theo dõi": Role.TRACKING_SPECIALIST,
    "Lãnh đạo Văn phòng": Role.OFFICE_LEADER,
    "Lãnh đạo UBND tỉnh": Role.PPC_LEADER,
    "Đầu mối đơn vị": Role.UNIT_FOCAL_POINT,
    "Thủ trưởng đơn vị": Role.UNIT_LEADER,
}


class Unit(Base):
    """A body in the tree: the Provincial Office, a department, a district, a commune, ..."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind", 40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """A person who signs in; belongs to one unit."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRole(Base):
    """A role held by a user."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role", 40))
