"""Development tools around the code location, outside it: ``pacific_assets`` is what a launched
run imports, and none of these is (pacific_assets_tests/test_package_boundaries.py fails if it is).

- ``simulate/``: the source simulator (``python -m pacific_tools.simulate``, ``make simulate``)
- ``replay/``: the daemon replay harness (``python -m pacific_tools.replay``, ``make replay``)
- ``demo``: simulate and materialize everything (``python -m pacific_tools.demo``, ``make demo``)
- ``sync``: report the lake's partitions to an instance (``python -m pacific_tools.sync``,
  ``make sync``)

They import the product; the product never imports them. ``bench/`` and ``stack/`` are tools too,
top-level packages of their own. See docs/ARCHITECTURE.md "Layout".
"""
