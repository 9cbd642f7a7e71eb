"""The on-call rotation, read from a data file (``oncall_rotation.yaml`` beside this module).

Week ``n`` after ``start_week`` is covered by entry ``n mod len(role list)``, so the file never
runs out; ``overrides`` swap one person for one week. Weeks start Monday 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_ROTATION_FILE = Path(__file__).with_name("oncall_rotation.yaml")


class RotationError(ValueError):
    """The rotation file is unusable (says which file and what to fix)."""


def week_start(at: dt.datetime | dt.date) -> dt.date:
    """The Monday (UTC) of the week containing ``at``."""
    if isinstance(at, dt.datetime):
        at = at.astimezone(dt.UTC).date() if at.tzinfo else at.date()
    return at - dt.timedelta(days=at.weekday())


@dataclass(frozen=True)
class Rotation:
    start_week: dt.date
    roles: dict[str, tuple[str, ...]]
    overrides: dict[tuple[dt.date, str], str] = field(default_factory=dict)
    slack_ids: dict[str, str] = field(default_factory=dict)
    source: str = "<memory>"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Rotation:
        path = Path(path) if path else DEFAULT_ROTATION_FILE
        try:
            raw = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise RotationError(f"cannot read the on-call rotation {path}: {exc}") from exc
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "<memory>") -> Rotation:
        def fail(msg: str) -> RotationError:
            return RotationError(f"{source}: {msg}")

        if not isinstance(raw, dict) or "start_week" not in raw or "roles" not in raw:
            raise fail("needs `start_week` (a Monday) and `roles` (role: [people])")
        start = _as_date(raw["start_week"], fail)
        if start.weekday() != 0:
            raise fail(f"start_week {start} is not a Monday")
        roles = {}
        for role, people in (raw["roles"] or {}).items():
            if not people or not all(isinstance(p, str) and p for p in people):
                raise fail(f"role {role!r} needs a non-empty list of people")
            roles[str(role)] = tuple(people)
        overrides = {}
        for i, item in enumerate(raw.get("overrides") or []):
            week = _as_date(item.get("week_start"), fail)
            role, person = item.get("role"), item.get("person")
            if week.weekday() != 0:
                raise fail(f"overrides[{i}]: week_start {week} is not a Monday")
            if role not in roles:
                raise fail(f"overrides[{i}]: unknown role {role!r} (roles: {sorted(roles)})")
            if not person:
                raise fail(f"overrides[{i}]: person is empty")
            overrides[(week, role)] = str(person)
        return cls(start, roles, overrides, dict(raw.get("slack") or {}), source)

    def on_call(self, role: str, at: dt.datetime | dt.date) -> str:
        """Who holds ``role`` in the week containing ``at``."""
        if role not in self.roles:
            raise RotationError(f"{self.source}: no role {role!r} (roles: {sorted(self.roles)})")
        week = week_start(at)
        if (week, role) in self.overrides:
            return self.overrides[(week, role)]
        people = self.roles[role]
        index = (week - self.start_week).days // 7
        return people[index % len(people)]

    def roster(self, at: dt.datetime | dt.date) -> dict[str, str]:
        """Everyone on call in the week containing ``at``, by role."""
        return {role: self.on_call(role, at) for role in self.roles}

    def mention(self, person: str) -> str:
        """A Slack mention when the member id is known, the handle otherwise."""
        return f"<@{self.slack_ids[person]}>" if person in self.slack_ids else f"@{person}"


def _as_date(value, fail) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise fail(f"{value!r} is not a date (YYYY-MM-DD)") from exc
