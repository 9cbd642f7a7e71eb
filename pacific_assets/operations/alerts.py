"""Alerts: one message per new incident, to Slack when configured, always to the alerts log.

Every alert names the asset, the partition(s), the owner (person paged or team queue), the
runbook step to start from, and the incident it opened. Slack is a plain incoming-webhook POST
(urllib, no client library); the webhook URL only ever comes from the environment
(``PACIFIC_SLACK_WEBHOOK_URL`` through ``dg.EnvVar``). The alerts log,
``<data_root>/ops/alerts.jsonl``, records every alert with the channel it went to — it is the
only channel when Slack is not configured, and the audit trail (and fallback) when it is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pacific_assets.operations.routing import Route


@dataclass(frozen=True)
class Alert:
    at: dt.datetime
    pipeline: str
    asset: str
    partition: str  # a key, a range "first...last", or "-" for the whole asset
    kind: str
    severity: str
    summary: str
    route: Route
    runbook_step: str
    incident_id: str
    run_id: str | None = None

    def text(self, mention: str | None = None) -> str:
        """The Slack message (mrkdwn): who, what, where, first step."""
        who = mention or self.route.owner
        head = f":rotating_light: PAGE {who}" if self.route.paged else f":inbox_tray: QUEUE {who}"
        lines = [
            f"{head} — {self.pipeline}: `{self.asset}` partition `{self.partition}` ({self.kind}, "
            f"{self.severity})",
            self.summary,
            f"Runbook: {self.runbook_step}",
            f"Routing: {self.route.reason}"
            + (
                f"; waits until {self.route.queued_until:%a %Y-%m-%d %H:%M} UTC"
                if self.route.queued_until
                else ""
            ),
        ]
        if self.route.contacts:
            lines.append(f"Contacts: {', '.join(self.route.contacts)}")
        lines.append(
            f"Incident {self.incident_id}" + (f", run {self.run_id}" if self.run_id else "")
        )
        return "\n".join(lines)

    def record(self) -> dict:
        return {
            "at": self.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "pipeline": self.pipeline,
            "asset": self.asset,
            "partition": self.partition,
            "kind": self.kind,
            "severity": self.severity,
            "action": self.route.action,
            "owner": self.route.owner,
            "contacts": list(self.route.contacts),
            "routing_reason": self.route.reason,
            "queued_until": self.route.queued_until.isoformat()
            if self.route.queued_until
            else None,
            "runbook_step": self.runbook_step,
            "summary": self.summary,
            "incident_id": self.incident_id,
            "run_id": self.run_id,
        }


def post_to_slack(webhook_url: str, text: str, timeout: float = 10.0) -> None:
    """POST ``{"text": ...}`` to a Slack incoming webhook; raises on a non-2xx answer."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(
                webhook_url, response.status, "Slack refused the alert", response.headers, None
            )


def deliver(
    alert: Alert, ops_dir: str | os.PathLike[str], slack_webhook_url: str | None, mention: str
) -> dict:
    """Send ``alert`` to Slack if configured, and append it to the alerts log either way."""
    record = alert.record()
    record["channel"] = "log"
    if slack_webhook_url:
        try:
            post_to_slack(slack_webhook_url, alert.text(mention))
            record["channel"] = "slack"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            # The log is the fallback: an unreachable Slack never loses an alert.
            record["slack_error"] = f"{type(exc).__name__}: {exc}"
    append_alert_log(ops_dir, record)
    return record


def append_alert_log(ops_dir: str | os.PathLike[str], record: dict) -> Path:
    path = Path(ops_dir) / "alerts.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True) + "\n"
    # One write per line on an O_APPEND file: lines from concurrent writers never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return path


def read_alert_log(ops_dir: str | os.PathLike[str]) -> list[dict]:
    path = Path(ops_dir) / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
