"""The IDX format of MNIST and Fashion-MNIST (LeCun's ``*-idx3-ubyte`` files), read and written without torchvision.

A file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values, big-endian, row-major. Files may be gzipped
(``.gz``), as the Debian package and the original site ship them. A truncated, garbled or
padded file raises one ``GanutilsError`` line that names the file and the fix.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..config import GanutilsError
from ..io import atomic_write_bytes

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path, fix: str) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise GanutilsError(f"{path} is missing. Fix: {fix}") from None
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; a cut .gz raises EOFError
        raise GanutilsError(f"{path} is not a readable (gzipped) IDX file ({type(err).__name__}: {err}). Fix: {fix}") from None


def read_idx(path, fix: str = "delete the file and fetch it again") -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or raw), in native byte order.

    ``fix`` is the remedy the error message gives (e.g. which package to reinstall).
    """
    path = Path(path)
    raw = _read_bytes(path, fix)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise GanutilsError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'}). Fix: {fix}")
    ndim, dtype = raw[3], np.dtype(IDX_TYPES[raw[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GanutilsError(f"{path} is truncated inside its header ({len(raw)} bytes). Fix: {fix}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise GanutilsError(
            f"{path} is {what}: {len(raw):,} bytes, its header {dims} needs {expected:,}. Fix: {fix}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``), atomically."""
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise GanutilsError(f"cannot write a {array.dtype} array of {array.ndim} dimensions as IDX: use uint8, int8, int16, int32, float32 or float64")
    blob = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    blob += array.astype(IDX_TYPES[code]).tobytes()
    if path.suffix == ".gz":
        blob = gzip.compress(blob, mtime=0)
    return atomic_write_bytes(path, blob)
