"""The operations resource (key ``ops``): the clock, the rotation file and the Slack webhook.

The clock is injectable (``frozen_now``, env ``PACIFIC_NOW``) so that the SLA partition checks,
routing and the incident clock can be tested — and demoed on simulated history — at a chosen
instant; empty means the wall clock. The Slack webhook is a secret: it only comes from the
environment (``PACIFIC_SLACK_WEBHOOK_URL``, through ``dg.EnvVar``, so the UI never shows it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from pacific_assets import settings
from pacific_assets.operations.rotation import Rotation
from pacific_assets.orchestration import clock
from pacific_assets.resources import LakeResource

SLACK_ENV = settings.SLACK_WEBHOOK_URL
NOW_ENV = settings.NOW
ROTATION_ENV = settings.ONCALL_ROTATION


class OpsResource(dg.ConfigurableResource):
    """On-call settings: Slack webhook (env only), rotation file, and an optional frozen clock."""

    slack_webhook_url: str | None = None
    #: Path of the rotation file; empty means the packaged ``oncall_rotation.yaml``.
    rotation_file: str = ""
    #: ISO-8601 instant (UTC if no offset) used as "now"; empty means the wall clock.
    frozen_now: str = ""

    def now(self) -> dt.datetime:
        return clock.parse_instant(self.frozen_now) if self.frozen_now else clock.now()

    def rotation(self) -> Rotation:
        return Rotation.load(self.rotation_file or None)


def ops_dir(lake: LakeResource) -> Path:
    """Where alerts, incidents and hand-off summaries live: ``<data_root>/ops``."""
    return lake.lake.root / "ops"


def ops_resource_from_env() -> OpsResource:
    """The ``ops`` resource of the code location (reads only the environment, never data)."""
    configured = settings.load()
    return OpsResource(
        # dg.EnvVar fails at launch when the variable is unset, so it is used only when set.
        slack_webhook_url=dg.EnvVar(SLACK_ENV) if configured.slack_webhook_set else None,
        rotation_file=configured.oncall_rotation,
        frozen_now=configured.now,
    )
