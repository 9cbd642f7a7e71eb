"""After runs, the replay looks again when each sensor is next due, the instant a daemon that
ticks every few seconds would evaluate it (``pacific_tools.replay.harness._follow_ups``).

Dagster's own daemon iterations over a two-sensor code location written here, on a moved clock
and a test instance; nothing is mocked."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import dagster as dg

from pacific_assets.orchestration.dagster_compat import moved_clock, replay_daemons
from pacific_tools.replay.harness import FOLLOW_UP, _follow_ups

DEFS = """
import dagster as dg


@dg.sensor(minimum_interval_seconds=120, default_status=dg.DefaultSensorStatus.RUNNING)
def every_two_minutes(context):
    return dg.SkipReason("nothing landed")


@dg.sensor(minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.RUNNING)
def hourly(context):
    return dg.SkipReason("nothing changed")


defs = dg.Definitions(sensors=[every_two_minutes, hourly])
"""
T0 = dt.datetime(2025, 9, 1, 5, 59, 59, 999000, tzinfo=dt.UTC)
LOG = logging.getLogger("pacific_assets_tests.replay_follow_ups")


def test_an_hourly_sensor_is_looked_at_when_it_is_due_not_an_hour_after_every_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "follow_up_defs.py").write_text(DEFS)
    now = [T0]
    with (
        dg.instance_for_test() as instance,
        moved_clock(lambda: now[0]),
        replay_daemons(instance, "follow_up_defs", str(tmp_path)) as daemons,
    ):
        daemons.tick(LOG)
        assert daemons.sensors_next_due() == {
            "every_two_minutes": T0 + dt.timedelta(seconds=120),
            "hourly": T0 + dt.timedelta(hours=1),
        }
        # ten minutes on, runs happened: the short sensor is looked at two minutes later, the
        # hourly one when its hour since its last tick is up (not ten minutes after that)
        now[0] = T0 + dt.timedelta(minutes=10)
        daemons.tick(LOG)
        follow = _follow_ups(daemons, now[0])
        assert follow == {now[0] + FOLLOW_UP, T0 + dt.timedelta(hours=1)}
        # and at that very instant the daemon evaluates it: the float timestamps the daemon
        # compares do not fall short of the interval
        now[0] = max(follow)
        daemons.tick(LOG)
        assert daemons.sensors_next_due()["hourly"] == now[0] + dt.timedelta(hours=1)
        # a sensor stopped in the UI is not looked at for
        daemons.stop_all_except({"every_two_minutes"})
        assert set(daemons.sensors_next_due()) == {"every_two_minutes"}
