"""Results read from files, reused while the files are unchanged.

The sensors run every minute or two and read the same files again each time: the catalog's
views, the incident records, a completeness table's flags, the newest ``stg_clicks``
partition. At weeks of history that re-reading was a third of a replayed tick
(docs/operations.md, "Replay"). A reader asks ``FileMemo.get`` instead: the result is reused
while every file it was read from still has the same identity (inode, size, mtime and ctime
from one ``os.stat``), and read again as soon as any of them is replaced, rewritten, touched or
removed. The project's writers replace files atomically (a new inode: the lake's versions, the
catalog, the incident records), and a rewrite in place changes the ctime, so a reused result
is never older than the files.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")

Identity = tuple[int, int, int, int] | None


def identity(path: str | os.PathLike[str]) -> Identity:
    """(inode, size, mtime, ctime) of ``path``; None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class FileMemo:
    """A bounded map from (what was read, from which files) to the result, checked per use."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[Hashable, tuple[tuple[Identity, ...], object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        files: Sequence[str | os.PathLike[str]],
        read: Callable[[], T],
        what: Hashable = None,
    ) -> T:
        """``read()``'s result for ``files`` (``what`` tells apart reads of the same files),
        from the last call if no file changed since. The files are stat-ed before ``read`` runs,
        so a file replaced meanwhile is read again next time."""
        key = (what, tuple(os.fspath(f) for f in files))
        now = tuple(identity(f) for f in files)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == now:
                self._items.move_to_end(key)
                return hit[1]  # type: ignore[return-value]
        value = read()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


__all__ = ["FileMemo", "identity"]
