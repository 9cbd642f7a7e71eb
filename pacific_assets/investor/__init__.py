"""investor pipeline: the executive/investor rollup on Spark (assets, checks, catch-up sensor).

Everything the code location needs is declared in ``pipeline.py``. Import stays cheap: no JVM
starts here (the ``pyspark`` resource is lazy) and no data is read.
"""
