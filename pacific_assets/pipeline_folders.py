"""Which sub-packages of ``pacific_assets`` are pipelines: the folders with a ``pipeline.py``.

Found on disk, importing no pipeline, so both the registry (``registry.discover``, which imports
each ``pipeline.py``) and the column registry (``columns.declared_tables``, which imports only
each folder's light ``columns.py``) can ask without importing each other.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

#: The module every pipeline folder declares itself in.
DECLARATION_MODULE = "pipeline"


def pipeline_packages(package: str = "pacific_assets") -> list[str]:
    """The sub-packages of ``package`` that declare a pipeline (have ``pipeline.py``), sorted."""
    root = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(root.__path__):
        path = getattr(info.module_finder, "path", None)
        if info.ispkg and path and (Path(path) / info.name / f"{DECLARATION_MODULE}.py").exists():
            found.append(f"{package}.{info.name}")
    return sorted(found)
