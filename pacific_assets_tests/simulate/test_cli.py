"""``python -m pacific_tools.simulate``: progress, a summary at the end, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacific_tools.simulate.__main__ import main


def test_cli_prints_progress_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["--profile", "test", "--out", str(tmp_path), "--days", "14", "--accounts", "6"])
    out = capsys.readouterr().out
    assert code == 0
    assert "simulating 'test'" in out and "clicks" in out
    assert f"landing : {tmp_path.resolve() / 'landing'}" in out
    assert "invoice_lines" in out and "faults  :" in out
    assert (tmp_path / "truth" / "fault_manifest.json").exists()


def test_cli_error_is_one_readable_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["--profile", "test", "--out", str(tmp_path), "--days", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("error: ") and "at least 3 days" in err[0]
    assert (tmp_path / "simulate-error.log").exists()
