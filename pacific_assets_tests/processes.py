"""Real Dagster processes for end-to-end tests: start, reach over GraphQL, stop by process group.

Every process a test starts runs in its own process group with SIGINT reset to its default, and is
stopped by that test (``stop``: SIGINT to the group, then SIGKILL), docs/operations.md "10. Tests".
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 240


@dataclass
class Server:
    url: str
    data_root: Path
    home: Path
    logs: Path
    default_statuses: dict[str, str] = field(default_factory=dict)

    def gql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
        assert "errors" not in body, json.dumps(body["errors"], indent=1)[:3000]
        return body["data"]

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of each process log, without Dagster's repeated Beta/Preview warnings."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()
            useful = [
                line
                for line in text
                if line.strip() and "Warning" not in line and "return fn(" not in line
            ]
            parts.append(f"--- {path.name}\n" + "\n".join(useful[-lines:]))
        return "\n".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_signals() -> None:
    # A process started from a non-interactive shell inherits SIGINT ignored; dagster then
    # cannot be stopped by its PID (docs/operations.md "10. Tests").
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "wb")  # noqa: SIM115 - closed by the process' end
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: killed as a whole
        preexec_fn=_reset_signals,
    )


def stop(proc: subprocess.Popen) -> None:
    """SIGINT the process group, then SIGKILL whatever is left of it. Interrupted itself (a
    pytest timeout fires in a teardown on a loaded machine), it SIGKILLs the group at once."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    try:
        for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if proc.poll() is not None and not _group_alive(pgid):
                    return
                time.sleep(0.3)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        raise


def stop_all(procs: list[subprocess.Popen]) -> None:
    """Stop every process, last started first; if stopping one is interrupted, SIGKILL the rest
    before the interruption goes on (no test leaves a server behind)."""
    try:
        for proc in reversed(procs):
            stop(proc)
    except BaseException:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
        raise
    for proc in procs:
        assert proc.poll() is not None, f"process {proc.args[0]} still running"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_for_location(server: Server, webserver: subprocess.Popen) -> None:
    """Until the webserver serves the code location (fails the test with the logs if not)."""
    deadline = time.monotonic() + START_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if webserver.poll() is not None:
            pytest.fail(f"dagster-webserver exited ({webserver.returncode}):\n{server.log_tail()}")
        try:
            data = server.gql(
                "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }",
                timeout=10,
            )
            if data["repositoriesOrError"].get("nodes"):
                return
        except (urllib.error.URLError, OSError, AssertionError) as exc:
            last = str(exc)
        time.sleep(1)
    pytest.fail(
        f"the code location did not load in {START_TIMEOUT} s ({last}):\n{server.log_tail()}"
    )


INSTIGATORS = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    sensors { name sensorState { id selectorId status } }
    schedules { name scheduleState { id selectorId status } }
} } } }
"""
STOP_SENSOR = (
    "mutation($o: String, $s: String) { stopSensor(jobOriginId: $o, jobSelectorId: $s) "
    "{ __typename ... on StopSensorMutationResult { instigationState { status } } } }"
)
STOP_SCHEDULE = (
    "mutation($o: String, $s: String) { stopRunningSchedule(scheduleOriginId: $o, "
    "scheduleSelectorId: $s) { __typename ... on ScheduleStateResult { scheduleState { status } } } }"
)


def stop_instigators(server: Server, keep: Collection[str]) -> tuple[dict[str, str], list[str]]:
    """Through the webserver's GraphQL, as an operator would: record every sensor's and
    schedule's status (``kind:name`` -> status), then stop every running one not in ``keep``.
    Returns the statuses seen first and the names stopped."""
    [repo] = server.gql(INSTIGATORS)["repositoriesOrError"]["nodes"]
    statuses, stopped = {}, []
    for kind, items in (("sensor", repo["sensors"]), ("schedule", repo["schedules"])):
        for item in items:
            state = item["sensorState"] if kind == "sensor" else item["scheduleState"]
            statuses[f"{kind}:{item['name']}"] = state["status"]
            if item["name"] in keep or state["status"] != "RUNNING":
                continue
            origin_id = state["id"].split("::", 1)[0]
            mutation = STOP_SENSOR if kind == "sensor" else STOP_SCHEDULE
            result = server.gql(mutation, {"o": origin_id, "s": state["selectorId"]})
            assert "STOPPED" in json.dumps(result), (item["name"], result)
            stopped.append(item["name"])
    return statuses, stopped
