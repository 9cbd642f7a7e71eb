"""`make stack`: the production-shaped stack on one machine, every part on 127.0.0.1.

PostgreSQL (the Dagster instance), a Kafka-protocol broker (Tansu) with the ``clicks`` topic, a
Spark standalone master and two workers, the Dagster code server, ``dagster-webserver`` and
``dagster-daemon`` as separate processes (docs/deployment.md). It starts and stops processes, so
it lives outside the runtime package, like ``bench/``; the end-to-end test
(``pacific_assets_tests/operations/test_stack_e2e.py``) starts its own stack with it.

    python -m stack up      # start what is not running yet; prints addresses and logs
    python -m stack status  # what runs, where
    python -m stack down    # stop exactly what `up` started, by pid
"""

from stack.services import PARTS, Settings, Stack, StackError

__all__ = ["PARTS", "Settings", "Stack", "StackError"]
