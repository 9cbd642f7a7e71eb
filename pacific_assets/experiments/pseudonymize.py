"""Keyed pseudonyms for user ids in the experiment tables (data-science readers never see user ids).

HMAC-SHA256(key, user_id), hex: stable (the same user gets the same pseudonym on every day and in
every experiment, so analysts can join and de-duplicate), not reversible without the key, and not
guessable by hashing candidate ids (a plain hash would be). The key comes from configuration:
``PACIFIC_PSEUDONYM_KEY`` through ``dg.EnvVar``. When it is not set, the embedded demo uses
``DEMO_PSEUDONYM_KEY``, which is public — fine for simulated users, never for real ones — and the
``pseudonymization_key_configured`` check on ``ab_unit_daily`` fails (WARN) to say so.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import dagster as dg
import polars as pl

from pacific_assets import settings

KEY_ENV = settings.PSEUDONYM_KEY
#: NOT A SECRET. Only for the embedded demo on simulated data; set PACIFIC_PSEUDONYM_KEY for real data.
DEMO_PSEUDONYM_KEY = "pacific-demo-pseudonym-key-NOT-SECRET"


def pseudonymize(key: str, user_ids: Iterable[str]) -> list[str]:
    """HMAC-SHA256 of each id under ``key``, as 64 lowercase hex characters."""
    k = key.encode("utf-8")
    return [hmac.new(k, u.encode("utf-8"), hashlib.sha256).hexdigest() for u in user_ids]


class PseudonymizerResource(dg.ConfigurableResource):
    """Holds the pseudonymization key (resource key ``pseudonymizer``)."""

    key: str

    @property
    def uses_demo_key(self) -> bool:
        return self.key == DEMO_PSEUDONYM_KEY

    def pseudonym_table(self, user_ids: Iterable[str]) -> pl.DataFrame:
        """(user_id, unit_pseudonym) for the distinct ids given."""
        ids = sorted(set(user_ids))
        return pl.DataFrame(
            {"user_id": ids, "unit_pseudonym": pseudonymize(self.key, ids)},
            schema={"user_id": pl.String, "unit_pseudonym": pl.String},
        )


def pseudonymizer_from_env() -> PseudonymizerResource:
    """The configured key through dg.EnvVar (resolved at run time, never logged), else the demo key."""
    if settings.load().pseudonym_key_set:
        return PseudonymizerResource(key=dg.EnvVar(KEY_ENV))
    return PseudonymizerResource(key=DEMO_PSEUDONYM_KEY)
