"""Reading ``.npz`` archives safely: nothing pickled, nothing bigger than the file, one error type.

``np.load(path, allow_pickle=False)`` never runs code from a file, but on a damaged or hostile
file it raises whatever its layers raise (``zipfile.BadZipFile``, ``zlib.error``,
``tokenize.TokenError``, ``NotImplementedError``, ``RecursionError``, and a ``ValueError`` that
blames pickles for a header that is merely too long), and it allocates an array as big as a
header declares before reading a byte of it: a 200-byte file declaring shape (2, 2⁴⁰) asks for
16 TiB.

Here each entry's ``.npy`` header is read and checked first, its declared size against the
bytes the archive holds for it, and only then its data. Every failure is an ``NpzError`` whose
message says what is wrong; callers put the file's name in front (``checkpoint.load`` as a
``CheckpointError``, ``datasets.load_file`` as a ``DataError``).

    >>> with NpzReader("data.npz") as archive:
    ...     X = archive["X"] if "X" in archive.files else None
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zipfile
from types import TracebackType
from typing import IO

import numpy as np

ZIP_SIGNATURE = b"PK"  # every .npz file is a zip archive
NPY_SIGNATURE = b"\x93NUMPY"
PICKLE_SIGNATURE = b"\x80"  # pickle protocols 2 and later
END_RECORD_SIGNATURE = b"PK\x05\x06"  # a zip's end of central directory record
#: The end record (22 bytes) plus the longest archive comment (65 535 bytes) it may carry.
END_RECORD_SEARCH = 22 + 65_535
#: numpy's own limit: a longer header is refused (numpy writes headers of ~100 bytes).
MAX_HEADER_BYTES = 10_000
# .npy version → (struct format of the header's length, the header's text encoding)
_HEADER_LENGTH = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}


class NpzError(ValueError):
    """An archive or one of its entries cannot be read; the message says why, without the path."""


def fspath(path: str | bytes | os.PathLike, where: str) -> str:
    """``path`` (str, bytes or os.PathLike) as a str, or a TypeError naming ``where``."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"{where}: the path is a {type(path).__name__}; expected a str, bytes or os.PathLike."
        ) from None


class NpzReader:
    """An open ``.npz`` archive: ``files`` lists its entries, ``reader[name]`` reads one.

    Opening checks that the file is a zip archive at all (and says what it is instead: a single
    ``.npy`` array, a Python pickle, something else). ``OSError`` (no such file, no permission)
    passes through; everything else is an ``NpzError``.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        with open(path, "rb") as file:
            head = file.read(len(NPY_SIGNATURE))
        if head.startswith(NPY_SIGNATURE):
            raise NpzError("holds a single .npy array, not an .npz archive")
        if not head.startswith(ZIP_SIGNATURE):
            what = "a Python pickle" if head.startswith(PICKLE_SIGNATURE) else "not a zip archive"
            raise NpzError(f"not an .npz archive ({what}); nothing in it was read or run")
        try:
            self._zip = zipfile.ZipFile(path)
            self._members = set(self._zip.namelist())
        except MemoryError:
            raise
        except Exception as error:  # BadZipFile, or what a damaged directory makes zipfile raise
            raise NpzError(f"not a readable .npz archive ({_describe(error)})") from None
        declared, found = _declared_entries(path), len(self._zip.infolist())
        if declared is not None and declared != found:
            # zipfile reads the directory by its byte size, not its count: a damaged length
            # field makes it skip entries (swallowed as a comment) without a word.
            self._zip.close()
            raise NpzError(
                f"not a readable .npz archive (its directory declares {declared} entries, "
                f"{found} could be read: it is damaged)"
            )
        #: The entries' names, as np.savez gave them (without the ".npy" each member carries).
        self.files = [name.removesuffix(".npy") for name in self._zip.namelist()]

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(
        self, kind: type | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def __getitem__(self, name: str) -> np.ndarray:
        """The entry ``name`` as a new, writable array; NpzError if it is not a sound array."""
        member = name + ".npy"
        if member not in self._members:
            raise NpzError("is not a .npy array" if name in self.files else "is missing")
        info = self._zip.getinfo(member)
        try:
            with self._zip.open(info) as stream:
                return _read_npy(stream, info.file_size)
        except (NpzError, MemoryError):
            raise
        except Exception as error:  # zlib.error, BadZipFile (CRC), EOFError, NotImplementedError...
            raise NpzError(f"is corrupt or truncated ({_describe(error)})") from None


def _declared_entries(path: str | os.PathLike) -> int | None:
    """The number of entries the zip's end record declares; None when it says 0xFFFF (a
    zip64 archive of that many entries keeps the count elsewhere)."""
    with open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - END_RECORD_SEARCH))
        tail = file.read()
    start = tail.rfind(END_RECORD_SIGNATURE)  # found: zipfile has just read the same record
    (count,) = struct.unpack("<H", tail[start + 10 : start + 12])
    return None if count == 0xFFFF else count


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _read_npy(stream: IO[bytes], stored_bytes: int) -> np.ndarray:
    """One .npy member: its header checked, then exactly the bytes the header declares."""
    magic = stream.read(len(NPY_SIGNATURE) + 2)
    if not magic.startswith(NPY_SIGNATURE) or len(magic) < len(NPY_SIGNATURE) + 2:
        raise NpzError("is not a .npy array (no .npy signature)")
    version = (magic[-2], magic[-1])
    if version not in _HEADER_LENGTH:
        raise NpzError(f"is a .npy array of unknown version {version[0]}.{version[1]}")
    length_format, encoding = _HEADER_LENGTH[version]
    length_bytes = stream.read(struct.calcsize(length_format))
    if len(length_bytes) < struct.calcsize(length_format):
        raise NpzError("is truncated inside its .npy header")
    (header_length,) = struct.unpack(length_format, length_bytes)
    if header_length > MAX_HEADER_BYTES:
        raise NpzError(
            f"has a .npy header of {header_length} bytes; at most {MAX_HEADER_BYTES} are "
            "accepted (numpy writes about 100), so the entry is corrupt"
        )
    header = stream.read(header_length)
    if len(header) < header_length:
        raise NpzError("is truncated inside its .npy header")
    shape, fortran_order, dtype = _parse_header(header, encoding)

    if dtype.hasobject:
        raise NpzError(
            "holds Python objects (dtype=object); pickled Python objects are never loaded"
        )
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, nothing allocated
    available = stored_bytes - (len(magic) + len(length_bytes) + header_length)
    if nbytes != available:
        raise NpzError(
            f"declares shape {shape} of {dtype} ({nbytes:,} bytes of data), but the archive "
            f"lists {max(available, 0):,} bytes for it; it is corrupt or truncated"
        )
    data = stream.read(nbytes + 1)  # reading to the end makes zipfile check the CRC
    if len(data) != nbytes:
        raise NpzError(f"is truncated: {len(data):,} of its {nbytes:,} bytes of data are there")
    if dtype.itemsize == 0:
        return np.empty(shape, dtype)
    flat = np.frombuffer(bytearray(data), dtype=dtype)  # bytearray: the array is writable
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _parse_header(header: bytes, encoding: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The header's Python-literal dict → (shape, fortran_order, dtype), checked."""
    try:
        fields = ast.literal_eval(header.decode(encoding))
    except MemoryError:
        raise
    except Exception as error:  # SyntaxError, ValueError, RecursionError (deep nesting)...
        raise NpzError(f"has an unreadable .npy header ({_describe(error)})") from None
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise NpzError("has a .npy header without exactly 'descr', 'fortran_order' and 'shape'")
    shape, fortran_order = fields["shape"], fields["fortran_order"]
    shape_ok = isinstance(shape, tuple) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    )
    if not shape_ok or not isinstance(fortran_order, bool):
        raise NpzError(f"has a .npy header with shape {shape!r}, fortran_order {fortran_order!r}")
    try:
        dtype = np.lib.format.descr_to_dtype(fields["descr"])
    except MemoryError:
        raise
    except Exception as error:
        raise NpzError(f"has a .npy header with an invalid dtype ({_describe(error)})") from None
    return shape, fortran_order, dtype
