"""Who is paged when: the runbooks' on-call rules, per pipeline, on a known rotation."""

from __future__ import annotations

import datetime as dt

import pytest

from pacific_assets.definitions import defs
from pacific_assets.operations.rotation import DEFAULT_ROTATION_FILE, Rotation, RotationError
from pacific_assets.operations.routing import is_last_week_of_month, next_working_hours, route
from pacific_assets.operations.sensors import asset_directory, oncall_by_pipeline
from pacific_assets_tests.operations.builders import at
from pacific_assets_tests.operations.conftest import ROTATION

UTC = dt.UTC
#: Each pipeline's on-call rules as routing receives them: read back from the code location's graph.
ONCALL = oncall_by_pipeline(asset_directory(defs.resolve_asset_graph()))


@pytest.fixture
def rotation() -> Rotation:
    return Rotation.from_dict(ROTATION)


def test_rotation_cycles_weekly_from_a_monday_and_honours_overrides(rotation: Rotation) -> None:
    # Week 0 (1 Sep 2025) -> first entry; week 1 -> second; lists cycle independently.
    assert rotation.on_call("profit_bi", at("2025-09-01 00:00")) == "ana"
    assert rotation.on_call("profit_bi", at("2025-09-07 23:59")) == "ana"  # Sunday, same week
    assert rotation.on_call("profit_bi", at("2025-09-08 00:00")) == "ben"
    assert rotation.on_call("profit_bi", at("2025-09-22 10:00")) == "ana"  # week 3 -> 3 % 3 = 0
    assert rotation.on_call("engagement_swe_contact", at("2025-09-22 10:00")) == "swe1"
    # Override: week of 24 Nov 2025 (week 12 -> 'ana' by the cycle) is zoe's.
    assert rotation.on_call("profit_bi", at("2025-11-26 12:00")) == "zoe"
    assert rotation.on_call("profit_bi", at("2025-12-01 12:00")) == "ben"


def test_rotation_file_errors_name_the_file_and_the_fix(tmp_path) -> None:
    with pytest.raises(RotationError, match="not a Monday"):
        Rotation.from_dict({**ROTATION, "start_week": "2025-09-02"}, source="x.yaml")
    with pytest.raises(RotationError, match="unknown role 'nope'"):
        Rotation.from_dict(
            {**ROTATION, "overrides": [{"week_start": "2025-09-08", "role": "nope", "person": "a"}]}
        )
    with pytest.raises(RotationError, match="non-empty list"):
        Rotation.from_dict({**ROTATION, "roles": {"profit_bi": []}})
    with pytest.raises(RotationError, match=r"missing\.yaml"):
        Rotation.load(tmp_path / "missing.yaml")


def test_packaged_rotation_file_covers_every_paged_role() -> None:
    rotation = Rotation.load(DEFAULT_ROTATION_FILE)
    needed = {role for p in ONCALL.values() for role in p.roles}
    assert needed <= set(rotation.roles)
    # It never runs out: any week years ahead has someone.
    assert rotation.roster(at("2031-02-14 03:00")).keys() == rotation.roles.keys()


def test_profit_pages_the_bi_person_of_the_week(rotation: Rotation) -> None:
    r = route(ONCALL["profit"], at("2025-09-10 03:00"), rotation)  # a Wednesday night, week 1
    assert (r.action, r.owner, r.contacts) == ("page", "ben", ())
    assert r.queued_until is None


def test_growth_never_pages_and_waits_for_working_hours(rotation: Rotation) -> None:
    saturday_night = route(ONCALL["growth"], at("2025-09-13 23:00"), rotation)
    assert (saturday_night.action, saturday_night.owner) == ("queue", "team:accounts")
    assert saturday_night.queued_until == at("2025-09-15 09:00")  # Monday morning
    tuesday_noon = route(ONCALL["growth"], at("2025-09-16 12:00"), rotation)
    assert tuesday_noon.action == "queue" and tuesday_noon.queued_until is None


def test_engagement_pages_the_de_owner_and_names_the_swe_contact(rotation: Rotation) -> None:
    r = route(ONCALL["engagement"], at("2025-09-08 02:00"), rotation)  # week 1
    assert (r.action, r.owner, r.contacts) == ("page", "dev2", ("swe2",))
    r = route(ONCALL["engagement"], at("2025-09-15 02:00"), rotation)  # week 2
    assert (r.owner, r.contacts) == ("dev1", ("swe3",))


@pytest.mark.parametrize(
    ("when", "paged"),
    [
        ("2025-11-23 23:59", False),  # 30-day month: the last week is 24–30
        ("2025-11-24 00:00", True),
        ("2025-11-30 23:59", True),
        ("2025-12-01 00:00", False),
        ("2025-12-24 12:00", False),  # 31-day month: 25–31
        ("2025-12-25 00:00", True),
        ("2026-02-21 12:00", False),  # February 2026: 22–28
        ("2026-02-22 00:00", True),
        ("2028-02-22 12:00", False),  # leap year: 23–29
        ("2028-02-29 12:00", True),
    ],
)
def test_investor_pages_de_only_in_the_last_week_of_the_month(
    rotation: Rotation, when: str, paged: bool
) -> None:
    r = route(ONCALL["investor"], at(when), rotation)
    assert is_last_week_of_month(at(when)) is paged
    if paged:
        assert r.action == "page"
        assert r.owner == rotation.on_call("investor_de", at(when))
    else:
        assert (r.action, r.owner) == ("queue", "team:business-analytics")


def test_warn_checks_never_page_even_on_paged_pipelines(rotation: Rotation) -> None:
    r = route(ONCALL["engagement"], at("2025-09-08 02:00"), rotation, severity="WARN")
    assert (r.action, r.owner) == ("queue", "team:data-engineering")
    assert r.queued_until == at("2025-09-08 09:00")


def test_pipelines_without_on_call_queue(rotation: Rotation) -> None:
    for pipeline, owner in [
        ("staging", "team:data-engineering"),
        ("experiments", "team:data-science"),
        ("operations", "team:data-engineering"),
    ]:
        r = route(ONCALL[pipeline], at("2025-09-08 02:00"), rotation)
        assert (r.action, r.owner) == ("queue", owner)


def test_next_working_hours_edges() -> None:
    assert next_working_hours(at("2025-09-12 16:59")) is None  # Friday, inside
    assert next_working_hours(at("2025-09-12 17:00")) == at("2025-09-15 09:00")  # to Monday
    assert next_working_hours(at("2025-09-15 08:59")) == at("2025-09-15 09:00")
    assert next_working_hours(at("2025-09-15 09:00")) is None
