"""A CSV field beyond the reader's limit fails naming the file and the row, never silently."""

from __future__ import annotations

import pytest

from pacific_assets.staging.landing import CSV_FIELD_LIMIT, LandingReadError, iter_csv_records


def test_field_beyond_the_limit_names_file_and_row(tmp_path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("user_id,team\nU1,sales\nU2," + "x" * (CSV_FIELD_LIMIT + 1) + "\n")
    records = iter_csv_records(path)
    assert next(records)[1] == ["user_id", "team"]
    assert next(records)[1] == ["U1", "sales"]
    with pytest.raises(LandingReadError, match=r"users\.csv: data row 2: field larger"):
        next(records)
