"""Named durations that diagrams' timers read (value + unit), and how they count on the calendar."""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .calendar import TZ, WorkingCalendar


class DurationUnit(str, enum.Enum):
    """How a timer setting's value is counted."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"
    MINUTES = "minutes"


@dataclass(frozen=True)
class TimerSetting:
    """One named duration, with its legal basis."""

    name: str
    value: int
    unit: DurationUnit
    description: str
    legal_basis: str

    def end_after(self, since: datetime, calendar: WorkingCalendar) -> datetime:
        """The instant this duration ends when counted from `since` (Civil Code rules for days)."""
        if since.tzinfo is None:
            since = since.replace(tzinfo=TZ)
        if self.unit is DurationUnit.WORKING_DAYS:
            return calendar.add_working_days(since, self.value)
        if self.unit is DurationUnit.CALENDAR_DAYS:
            # Art. 147-148: the event day is not counted; a last day that is a day off moves on.
            return calendar.deadline_end((since.astimezone(TZ) + timedelta(days=self.value)).date())
        unit = "hours" if self.unit is DurationUnit.HOURS else "minutes"
        return since + timedelta(**{unit: self.value})


def load_seed(path: str | Path) -> list[TimerSetting]:
    """Read the default timer settings shipped in processes/settings/timers.json."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [TimerSetting(name=item["name"], value=int(item["value"]), unit=DurationUnit(item["unit"]),
                         description=item["description"], legal_basis=item["legal_basis"])
            for item in raw["settings"]]
