"""The machine's available memory and byte sizes in messages (one place for runs and scans)."""

from __future__ import annotations

import os

__all__ = ["available_memory", "format_bytes"]


def available_memory(meminfo: str = "/proc/meminfo") -> int | None:
    """Bytes of memory this machine can still hand out, or None where it cannot be read.

    ``MemAvailable`` of ``meminfo`` on Linux; without it, psutil's figure when psutil is
    installed, else the free physical pages reported by ``os.sysconf``.

    Examples
    --------
    >>> m = available_memory()
    >>> m is None or m > 0
    True
    """
    try:
        with open(meminfo) as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        pages, size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(pages) * int(size) if pages > 0 and size > 0 else None


def format_bytes(n: float) -> str:
    """``1.5 GB``-style size (powers of 1024).

    Examples
    --------
    >>> format_bytes(3 * 1024**3)
    '3.0 GB'
    >>> format_bytes(512)
    '512 B'
    """
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover
