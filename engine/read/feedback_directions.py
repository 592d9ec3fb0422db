"""The PPC leadership's direction on a feedback (Art. 15.5), as the steps after it show it.

Recorded by the actions `direction_given` (the PPC leader answered in the system) and
`direction_recorded` (the Office leader recorded one given outside the system); the notice step that
follows shows who gave it, when, and which of the two it was (docs/regulation.md, Procedure B).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.regulation.records import Direction, Feedback


@dataclass(frozen=True)
class DirectionView:
    """The latest direction on a feedback follow-up."""

    content: str
    given_by: str              # a full name (in the system) or as the Office typed it (outside)
    given_on: date | None      # the day it was given outside the system; None in the system (see given_at)
    given_at: datetime         # when the system recorded it
    outside_system: bool
    recorded_by: str | None    # the username of whoever put it in the system
    notice_number: str


def for_instance(session: Session, instance_id: int) -> DirectionView | None:
    """The latest direction recorded for the feedback a follow-up instance handles, if any."""
    row = session.scalars(select(Direction).join(Feedback, Feedback.id == Direction.feedback_id)
                          .where(Feedback.instance_id == instance_id).order_by(Direction.id.desc()).limit(1)).first()
    if row is None:
        return None
    return DirectionView(row.content, row.given_by, row.given_on, row.given_at, row.outside_system, row.recorded_by,
                         row.notice_number)
