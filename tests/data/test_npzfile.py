"""The safe .npz reader: the same arrays as np.load on sound files, one NpzError on any other."""

import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, scalar_dtypes
from strategies import one_byte_changed, sound_archive

from tinygrad_reg.data.npzfile import MAX_HEADER_BYTES, NpzError, NpzReader, fspath


def npy_bytes(header: str, data: bytes = b"", version: int = 1) -> bytes:
    """A .npy member written by hand: magic, version, header length, header, data."""
    encoded = header.encode("latin1")
    length = struct.pack("<H" if version == 1 else "<I", len(encoded))
    return b"\x93NUMPY" + bytes([version, 0]) + length + encoded + data


def archive(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    array=arrays(scalar_dtypes(), array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    fortran=st.booleans(),
    compressed=st.booleans(),
)
def test_sound_files_read_as_np_load_reads_them(tmp_path, array, fortran, compressed):
    array = np.asfortranarray(array) if fortran else array
    path = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(path, a=array, b=np.arange(3))
    with np.load(path) as expected, NpzReader(path) as reader:
        assert reader.files == expected.files
        for name in reader.files:
            got = reader[name]
            assert got.dtype == expected[name].dtype and got.shape == expected[name].shape
            np.testing.assert_array_equal(got, expected[name])
            assert got.flags.writeable


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.npy": npy_bytes("[" * 9_000)}, "unreadable .npy header"),
        (
            {
                "a.npy": npy_bytes(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}" + " " * 10_001
                )
            },
            rf"header of 10\d{{3}} bytes; at most {MAX_HEADER_BYTES}",
        ),
        (
            {"a.npy": npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2**40)}")},
            "unreadable .npy header",  # not a literal: an expression
        ),
        (
            {
                "a.npy": npy_bytes(
                    f"{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {2**40})}}"
                )
            },
            r"declares shape \(2, 1099511627776\) of float64 \(17,592,186,044,416 bytes of data\)",
        ),
        (
            {"a.npy": npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", b"\x80")},
            r"Python objects \(dtype=object\)",
        ),
        ({"a.npy": npy_bytes("{'descr': '<f8'}")}, "without exactly 'descr'"),
        (
            {
                "a.npy": npy_bytes(
                    "{'descr': 'zz', 'fortran_order': False, 'shape': (1,)}", b"1" * 8
                )
            },
            "invalid dtype",
        ),
        (
            {"a.npy": npy_bytes("{'descr': '<f8', 'fortran_order': 0, 'shape': (-1,)}")},
            r"shape \(-1,\), fortran_order 0",
        ),
        ({"a.npy": b"\x93NUMPY\x07\x00"}, "unknown version 7.0"),
        ({"a.npy": b"not an array"}, "no .npy signature"),
        ({"a.txt": b"hello"}, "is not a .npy array"),
    ],
    ids=[
        "nested",
        "long header",
        "expression",
        "huge shape",
        "object",
        "keys",
        "dtype",
        "negative shape",
        "version",
        "signature",
        "text member",
    ],
)
def test_a_bad_member_is_one_npz_error_saying_what_is_wrong(tmp_path, members, message):
    path = archive(tmp_path / "bad.npz", members)
    with NpzReader(path) as reader, pytest.raises(NpzError, match=message):
        reader[reader.files[0]]


def test_what_a_file_is_instead_of_an_archive(tmp_path):
    cases = {
        "one.npy": (lambda p: np.save(p, np.zeros(2)), "single .npy array"),
        "pickle.npz": (lambda p: p.write_bytes(b"\x80\x04K\x01."), r"\(a Python pickle\)"),
        "text.npz": (lambda p: p.write_text("hello"), r"\(not a zip archive\)"),
        "cut.npz": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 20), "not a readable .npz"),
    }
    for name, (write, message) in cases.items():
        path = tmp_path / name
        write(path)
        with pytest.raises(NpzError, match=message):
            NpzReader(path)
    with pytest.raises(FileNotFoundError):
        NpzReader(tmp_path / "absent.npz")


def test_a_corrupt_compressed_member_is_an_npz_error_not_zlib_error(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, a=np.arange(1000.0))
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the deflate stream of the only member
    path.write_bytes(bytes(data))
    with NpzReader(path) as reader, pytest.raises(NpzError, match="corrupt or truncated"):
        reader["a"]


def test_paths_may_be_str_bytes_or_pathlike(tmp_path):
    assert fspath(b"/tmp/x.npz", "load") == "/tmp/x.npz"
    assert fspath(tmp_path / "x", "load") == str(tmp_path / "x")
    with pytest.raises(TypeError, match="load: the path is a int; expected a str, bytes"):
        fspath(3, "load")


@pytest.mark.parametrize("compressed", [True, False])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_change_is_an_npz_error_or_leaves_every_array_as_it_was(
    tmp_path, compressed, data
):
    """zlib's, zipfile's and numpy's failures (a bad deflate stream, a CRC mismatch, a damaged
    directory or header) all end in NpzError; a change that nothing detects (a timestamp, the
    local copy of the CRC) reads the very arrays that were written."""
    original, arrays = sound_archive(compressed)
    path = tmp_path / "damaged.npz"
    path.write_bytes(data.draw(one_byte_changed(original)))
    try:
        with NpzReader(path) as reader:
            read = {name: reader[name] for name in reader.files}
    except NpzError:
        return
    assert sorted(read) == sorted(arrays)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype
        np.testing.assert_array_equal(read[name], array)


@pytest.mark.parametrize("compressed", [True, False])
def test_every_single_byte_flip_is_an_npz_error_or_harmless(tmp_path, compressed):
    """All positions, each flipped bitwise: the exhaustive counterpart of the property above."""
    original, arrays = sound_archive(compressed)
    path, errors = tmp_path / "flipped.npz", 0
    for position in range(len(original)):
        damaged = bytearray(original)
        damaged[position] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            with NpzReader(path) as reader:
                read = {name: reader[name] for name in reader.files}
        except NpzError:
            errors += 1
            continue
        assert sorted(read) == sorted(arrays), position
        for name, array in arrays.items():
            np.testing.assert_array_equal(read[name], array, err_msg=str(position))
    assert errors > len(original) // 2  # most bytes matter: the check is not vacuous
