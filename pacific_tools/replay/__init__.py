"""Replay: weeks of production in minutes, on a real Dagster instance (``make replay``).

The replay drives the project through N simulated days the way production lives them: the
simulator's files land in the order and at the times its landing schedule says (hourly click
batches, late clicks, late CRM events, a late and a corrected billing export, monthly finance and
HR files, a filing), the clock advances, and at each moment something can happen every RUNNING
schedule and sensor — and Dagster's asset, backfill and freshness daemons — is evaluated as the
daemon does it (Dagster's own daemon iterations, in process, on the moved clock), and the runs
they request are executed. It then recomputes the whole lake in one shot from the same landed
data at the same instant and compares the two, and reports what the daemon did, per asset: runs,
materializations, re-materializations and why, *unnecessary* re-materializations (a partition
rebuilt although none of its inputs changed), freshness violations and alerts by route.

Layout (``--root``, default ``<PACIFIC_DATA_ROOT>/replay``): ``source/`` the simulated company
(everything, with its landing schedule), ``live/`` the data root the daemon works on,
``dagster_home/`` its instance, ``recompute/`` the one-shot lake. Reports: ``summary.json`` and
``timeline.html`` under ``<PACIFIC_DATA_ROOT>/reports/replay/``. The demo's data and instance
are never touched.

Between events the clock jumps: a daemon tick in between would find nothing to do, because every
decision reads only the lake, the landing zone, the runs and the clock's step boundaries — and
each of those is an event (a landing, a cron tick, a due time, a deadline, a midnight; after
runs, two minutes later and the instant each longer-interval sensor is next due).
``--every-minutes`` adds regular ticks to check exactly that.
"""
