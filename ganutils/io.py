"""Writing files so that nothing is ever half-written.

``atomic_write_*`` write to a temporary file in the same folder, fsync it and rename it over the
target: a crash, a kill or a full disk leaves either the old file or the new one, never a torn one.
A temporary file left by a killed writer is named ``.<name>.tmp-<pid>`` and is removed by the next
write to the same target.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def _clean_stale_temporaries(path: Path) -> None:
    """Remove temporaries of ``path`` whose writer process no longer exists."""
    for tmp in path.parent.glob(f".{path.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(path, write) -> Path:
    """Call ``write(fh)`` on a binary file handle; the result replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj, **kwargs) -> Path:
    return atomic_write_text(path, json.dumps(obj, **kwargs))


def save_torch_atomic(obj, path) -> Path:
    """``torch.save`` through :func:`atomic_write`."""
    import torch

    return atomic_write(path, lambda fh: torch.save(obj, fh))
