"""Tests for autograder.sandbox.wire: value codec, hostile-input rejection and pipe frames."""

import collections
import contextlib
import enum
import json
import math
import os
import pickle
import signal
import struct
import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.sandbox.wire import (
    DEFAULT_LIMITS,
    DTYPES,
    FrameEOF,
    FrameTimeout,
    Limits,
    Opaque,
    WireError,
    decode,
    encode,
    read_frame,
    write_frame,
)

# The format is restated here so that tests check it independently of the module.
HEADER = struct.Struct("<4sHQQ")
MAGIC = b"AGW\x00"


def message(tree: object, blob: bytes = b"", *, magic: bytes = MAGIC, version: int = 1) -> bytes:
    return raw_message(json.dumps(tree).encode(), blob, magic=magic, version=version)


def raw_message(text: bytes, blob: bytes = b"", *, magic: bytes = MAGIC, version: int = 1) -> bytes:
    return HEADER.pack(magic, version, len(text), len(blob)) + text + blob


def tensor_node(dtype: str, shape: list, offset: int = 0, nbytes: int | None = None) -> dict:
    if nbytes is None:
        nbytes = math.prod(shape) * DTYPES[dtype].itemsize
    return {"kind": "tensor", "dtype": dtype, "shape": shape, "offset": offset, "nbytes": nbytes}


def nested_lists(depth: int) -> dict:
    node: dict = {"kind": "none"}
    for _ in range(depth):
        node = {"kind": "list", "value": [node]}
    return node


def raw_bytes(t: torch.Tensor) -> bytes:
    return t.detach().resolve_neg().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def assert_same_tensor(got: object, want: torch.Tensor) -> None:
    assert type(got) is torch.Tensor
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    assert not got.requires_grad
    assert raw_bytes(got) == raw_bytes(want.detach())


def roundtrip(value: object) -> object:
    return decode(encode(value))


# ------------------------------------------------------------------------------ round trips


class Color(enum.IntEnum):
    RED = 3


class MyFloat(float):
    pass


Pair = collections.namedtuple("Pair", "a b")


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2**64 - 1, -(2**64 - 1), 1.5, 1e308, 5e-324, "", "héllo\x00\ud800"],
)
def test_scalar_roundtrip_keeps_value_and_exact_type(value: object) -> None:
    got = roundtrip(value)
    assert got == value
    assert type(got) is type(value)


def test_negative_zero_and_special_floats_roundtrip() -> None:
    zero, nan, inf, ninf = roundtrip([-0.0, math.nan, math.inf, -math.inf])
    assert math.copysign(1.0, zero) == -1.0
    assert math.isnan(nan)
    assert (inf, ninf) == (math.inf, -math.inf)


def test_containers_roundtrip_with_distinct_types() -> None:
    value = {"a": (1, [2.5, (None,)], {"b": []}), "": (), "c": [True, "x"]}
    got = roundtrip(value)
    assert got == value
    assert type(got["a"]) is tuple
    assert type(got["a"][1]) is list
    assert type(got["a"][1][1]) is tuple
    assert list(got) == ["a", "", "c"]  # key order kept


def test_subclasses_of_builtins_are_sent_as_plain_values() -> None:
    got = roundtrip([Color.RED, MyFloat(2.5), Pair(1, 2), collections.OrderedDict(k=1)])
    assert got == [3, 2.5, (1, 2), {"k": 1}]
    assert [type(x) for x in got] == [int, float, tuple, dict]


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_tensor_roundtrip_every_dtype_bytes_equal(name: str) -> None:
    dtype = DTYPES[name]
    gen = torch.Generator().manual_seed(0)
    if dtype.is_floating_point:
        t = torch.randn(3, 4, generator=gen).to(dtype)
        t[0, 0], t[0, 1], t[0, 2] = math.nan, math.inf, -0.0
    elif dtype == torch.bool:
        t = torch.rand(3, 4, generator=gen) > 0.5
    else:
        info = torch.iinfo(dtype)
        t = torch.randint(info.min, info.max, (3, 4), generator=gen, dtype=dtype)
        t[0, 0], t[0, 1] = info.min, info.max
    assert_same_tensor(roundtrip(t), t)


@pytest.mark.parametrize(
    "t",
    [
        torch.arange(12.0).reshape(3, 4).t(),  # transposed
        torch.arange(20, dtype=torch.int64)[::3],  # strided
        torch.arange(24.0).reshape(2, 3, 4)[:, 1:, ::2],
        torch.arange(6.0).expand(2, 6),  # stride 0
        torch.tensor(3.5),  # 0-d
        torch.tensor(True),
        torch.empty(0),
        torch.empty(2, 0, 3, dtype=torch.bfloat16),
        torch.randn(2, 3, requires_grad=True),
        torch.randn(2, 3, requires_grad=True) * 2,  # non-leaf with grad_fn
        torch.nn.Parameter(torch.randn(4)),
        torch._neg_view(torch.randn(3).to(torch.bfloat16)),
    ],
    ids=lambda t: f"{t.dtype}-{tuple(t.shape)}-{tuple(t.stride())}",
)
def test_tensor_roundtrip_layouts(t: torch.Tensor) -> None:
    assert_same_tensor(roundtrip(t), t)


class HostileTensor(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise RuntimeError("__torch_function__ must not be called by the encoder")


def test_tensor_subclass_is_sent_as_plain_tensor() -> None:
    base = torch.arange(6.0).reshape(2, 3)
    got = roundtrip({"out": base.as_subclass(HostileTensor)})["out"]
    assert_same_tensor(got, base)


def test_decoded_tensors_copy_the_message() -> None:
    a, b = torch.arange(4, dtype=torch.int32), torch.arange(4, dtype=torch.int32)
    data = bytearray(encode([a, b]))
    x, y = decode(data)
    data[-16:] = bytes(16)  # overwrite the blob after decoding
    assert x.tolist() == y.tolist() == [0, 1, 2, 3]
    x.add_(10)
    assert y.tolist() == [0, 1, 2, 3]
    assert x.untyped_storage().data_ptr() != y.untyped_storage().data_ptr()


def test_tensors_are_laid_out_in_order_in_blob() -> None:
    data = encode([torch.ones(2, dtype=torch.int8), torch.zeros(3, dtype=torch.int8)])
    assert data.endswith(b"\x01\x01\x00\x00\x00")
    assert data.startswith(MAGIC)


def test_unsupported_values_become_opaque() -> None:
    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    class HugeRepr:
        def __repr__(self) -> str:
            return "x" * 10_000

    arr, bad, huge, keyed, cplx, st_ = roundtrip(
        [np.zeros(3), BadRepr(), HugeRepr(), {1: "a"}, torch.zeros(2, dtype=torch.complex64), {1}]
    )
    assert arr == Opaque("numpy.ndarray", repr(np.zeros(3)))
    assert bad.type_name.endswith("BadRepr") and "repr failed" in bad.text
    assert len(huge.text) == 200 and huge.text.endswith("...")
    assert keyed == Opaque("dict", "{1: 'a'}")
    assert cplx.type_name == "torch.Tensor" and "complex64" in cplx.text
    assert st_ == Opaque("set", "{1}")
    meta = roundtrip(torch.ones(3, device="meta"))
    assert meta.type_name == "torch.Tensor" and "could not be read" in meta.text


def test_encode_rejects_cycles_and_overdeep_values() -> None:
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(WireError, match="deeper than 16"):
        encode(cyclic)
    deep: object = 0
    for _ in range(16):
        deep = [deep]
    assert roundtrip(deep) == deep


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64) + 1, 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.lists(kids, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=5), kids, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(values)
def test_roundtrip_property(value: object) -> None:
    assert roundtrip(value) == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_messages_decode_or_raise_wire_error(data: st.DataObject) -> None:
    """The decoder's only failure mode on garbage is WireError."""
    good = bytearray(encode({"x": torch.arange(6.0).reshape(2, 3), "y": [1, (2.5, "s")]}))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(good) - 1))
        good[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(WireError):
        decode(bytes(good))


# ------------------------------------------------------------------------------- rejection


def test_rejects_bad_magic_and_version() -> None:
    with pytest.raises(WireError, match="bad magic"):
        decode(message({"kind": "none"}, magic=b"XXXX"))
    with pytest.raises(WireError, match="version 2"):
        decode(message({"kind": "none"}, version=2))


def test_rejects_pickle_payload() -> None:
    with pytest.raises(WireError):
        decode(pickle.dumps(torch.ones(3)))
    with pytest.raises(WireError, match="bad magic"):
        decode(pickle.dumps(["a" * 100]))


@pytest.mark.parametrize("cut", [1, 20, 100])
def test_rejects_truncated_message(cut: int) -> None:
    data = encode([torch.ones(10), "abc"])
    with pytest.raises(WireError, match=r"header declares|shorter than"):
        decode(data[:-cut])


def test_rejects_trailing_bytes_and_short_input() -> None:
    with pytest.raises(WireError, match="header declares"):
        decode(encode(1) + b"\x00")
    with pytest.raises(WireError, match="shorter than"):
        decode(b"")


def test_rejects_message_over_max_bytes() -> None:
    data = encode(torch.ones(100))
    with pytest.raises(WireError, match="over the 100-byte limit"):
        decode(data, Limits(max_bytes=100))
    with pytest.raises(WireError, match=r"JSON header is \d+ bytes, over 10"):
        decode(data, Limits(max_header_bytes=10))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        (b'{"kind": "none"', "not valid JSON"),
        (b'{"kind": "float", "value": NaN}', "NaN is not allowed"),
        (b'{"kind": "float", "value": -Infinity}', "-Infinity is not allowed"),
        (b'{"kind": "none", "kind": "none"}', "duplicate keys"),
        (b'{"kind": "int", "value": 1' + b"0" * 30 + b"}", "integer literal .* too long"),
        (b"[" * 100_000 + b"]" * 100_000, "too deeply"),
        (b'{"kind": "float", "value": 1e999}', "finite"),
    ],
)
def test_rejects_bad_json(text: bytes, match: str) -> None:
    with pytest.raises(WireError, match=match):
        decode(raw_message(text))


@pytest.mark.parametrize(
    ("tree", "match"),
    [
        ([], r"\$: node must be a JSON object, got an array"),
        ({"kind": "set", "value": []}, "unknown node kind string 'set'"),
        ({"kind": ["x"] * 5}, "unknown node kind an array of 5 items"),
        ({"value": 1}, "unknown node kind null"),
        ({"kind": "int"}, r"int node must have keys \['kind', 'value'\]"),
        ({"kind": "none", "value": None}, "none node must have keys"),
        ({"kind": "int", "value": True}, "int value must be a JSON integer, got bool True"),
        ({"kind": "int", "value": 1.0}, "int value must be a JSON integer"),
        ({"kind": "int", "value": 2**64}, "int is over 64 bits"),
        ({"kind": "bool", "value": 1}, "bool value must be true or false"),
        ({"kind": "float", "value": 1}, "float value must be a finite JSON float"),
        ({"kind": "float", "value": "NaN"}, "float value must be"),
        ({"kind": "str", "value": 5}, "value must be a string"),
        ({"kind": "list", "value": {}}, "list value must be a JSON array, got an object"),
        ({"kind": "tuple", "value": [1]}, r"\$\[0\]: node must be a JSON object, got int"),
        ({"kind": "dict", "value": [[1, {"kind": "none"}]]}, r"\$\[0\]: dict key must be a str"),
        ({"kind": "dict", "value": [["a"]]}, "dict entry must be a \\[key, node\\] pair"),
        (
            {"kind": "dict", "value": [["a", {"kind": "none"}], ["a", {"kind": "none"}]]},
            "duplicate dict key 'a'",
        ),
        (
            {"kind": "dict", "value": [["a", {"kind": "list", "value": [{"kind": "x"}]}]]},
            r"\$\['a'\]\[0\]: unknown node kind",
        ),
        ({"kind": "opaque", "type": "x", "text": "y" * 201}, "text is 201 characters, over 200"),
        ({"kind": "opaque", "type": 3, "text": ""}, "type must be a string"),
    ],
)
def test_rejects_malformed_nodes(tree: object, match: str) -> None:
    with pytest.raises(WireError, match=match):
        decode(message(tree))


def test_rejects_long_strings_and_keys() -> None:
    limits = Limits(max_str=10)
    assert decode(encode("x" * 10), limits) == "x" * 10
    with pytest.raises(WireError, match="value is 11 characters, over 10"):
        decode(encode("x" * 11), limits)
    with pytest.raises(WireError, match="dict key is over 10"):
        decode(encode({"k" * 11: 1}), limits)


def test_rejects_depth_bomb() -> None:
    assert decode(message(nested_lists(16))) is not None
    with pytest.raises(WireError, match="deeper than 16"):
        decode(message(nested_lists(17)))
    with pytest.raises(WireError, match="deeper than 3"):
        decode(encode([[[[1]]]]), Limits(max_depth=3))


def test_rejects_item_count_bomb() -> None:
    ok = {"kind": "list", "value": [{"kind": "none"}] * 9_999}
    assert len(decode(message(ok))) == 9_999
    bomb = {"kind": "list", "value": [{"kind": "none"}] * 10_000}
    with pytest.raises(WireError, match="more than 10000 nodes"):
        decode(message(bomb))


F32 = torch.arange(6.0).reshape(2, 3).numpy().tobytes()


@pytest.mark.parametrize(
    ("tree", "blob", "match"),
    [
        (tensor_node("float32", [2, 3], nbytes=28), F32 + b"\0" * 4, "nbytes 28 != 6 \\* 4"),
        (tensor_node("float32", [2, 3], nbytes=20), F32[:20], "nbytes 20 != 6 \\* 4"),
        (tensor_node("float32", [2, 3], offset=4), F32, r"offset 4 != 0"),
        (tensor_node("float32", [2, 3]), F32[:20], "tensor ends past the 20-byte blob"),
        (tensor_node("float32", [2, 3]), F32 + b"\0", "1 trailing bytes"),
        (
            {**tensor_node("float32", [6]), "dtype": "complex64"},
            F32,
            "dtype string 'complex64' is not allowed",
        ),
        (
            {**tensor_node("float32", [6]), "dtype": "float33"},
            F32,
            "dtype string 'float33' is not allowed",
        ),
        ({**tensor_node("float32", [6]), "dtype": 4}, F32, "dtype int 4 is not"),
        ({**tensor_node("float32", [6]), "shape": [True, 6]}, F32, "shape must be a list of non"),
        ({**tensor_node("float32", [6]), "shape": [-6]}, F32, "shape must be a list of non-neg"),
        ({**tensor_node("float32", [6]), "shape": [6.0]}, F32, "shape must be a list"),
        ({**tensor_node("float32", [6]), "shape": 6}, F32, "shape must be a list"),
        ({**tensor_node("float32", [6]), "offset": -1}, F32, "offset must be an int >= 0"),
        ({**tensor_node("float32", [6]), "nbytes": "24"}, F32, "nbytes must be an int >= 0"),
        (tensor_node("uint8", [1] * 9), b"\x01", "9 dims, over 8"),
        (tensor_node("uint8", [0, 2**40]), b"", "over 50000000 elements"),
        (tensor_node("uint8", [2**63, 0]), b"", "over 50000000 elements"),
        (tensor_node("bool", [3]), b"\x00\x01\x02", "bytes other than 0 and 1"),
        (
            {"kind": "list", "value": [tensor_node("uint8", [2]), tensor_node("uint8", [2])]},
            b"\x01\x02",
            r"\$\[1\]: tensor offset 0 != 2",
        ),
        (
            {"kind": "list", "value": [tensor_node("uint8", [2]), tensor_node("uint8", [2], 2)]},
            b"\x01\x02\x03",
            r"\$\[1\]: tensor ends past the 3-byte blob",
        ),
    ],
)
def test_rejects_bad_tensors(tree: dict, blob: bytes, match: str) -> None:
    with pytest.raises(WireError, match=match):
        decode(message(tree, blob))


def test_handcrafted_tensor_message_is_accepted() -> None:
    """Guards the rejection tests above: the same node, made consistent, decodes."""
    got = decode(message(tensor_node("float32", [2, 3]), F32))
    assert_same_tensor(got, torch.arange(6.0).reshape(2, 3))
    assert decode(message(tensor_node("uint8", [0, 2**20]))).shape == (0, 2**20)


def test_rejects_tensor_over_max_elements() -> None:
    data = encode(torch.zeros(11))
    assert decode(data, Limits(max_elements=11)).shape == (11,)
    with pytest.raises(WireError, match="over 10 elements"):
        decode(data, Limits(max_elements=10))


def test_default_limits() -> None:
    d = DEFAULT_LIMITS
    assert (d.max_bytes, d.max_depth, d.max_items) == (256 << 20, 16, 10_000)
    assert (d.max_elements, d.max_dims, d.max_str) == (50_000_000, 8, 1 << 20)


# ---------------------------------------------------------------------------------- frames


@pytest.fixture
def pipe():
    r, w = os.pipe()
    fds = {"r": r, "w": w}
    yield fds
    for fd in fds.values():
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def close(fds: dict, end: str) -> None:
    os.close(fds[end])
    fds[end] = None


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_frame_roundtrip_sequence(pipe: dict) -> None:
    for payload in [b"hello", b"", encode({"t": torch.ones(3)})]:
        write_frame(pipe["w"], payload)
    assert read_frame(pipe["r"], 1024, soon()) == b"hello"
    assert read_frame(pipe["r"], 1024, soon()) == b""
    assert_same_tensor(decode(read_frame(pipe["r"], 1024, soon()))["t"], torch.ones(3))


@pytest.mark.parametrize("blocking", [True, False])
def test_large_frame_partial_reads_and_writes(pipe: dict, blocking: bool) -> None:
    payload = os.urandom(3 << 20)  # far over the 64 KiB pipe buffer
    os.set_blocking(pipe["w"], blocking)  # non-blocking: os.write returns short counts
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            write_frame(pipe["w"], payload, deadline=soon())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    got = read_frame(pipe["r"], len(payload), soon())
    thread.join()
    assert not errors
    assert got == payload


def test_read_timeout_on_silent_pipe(pipe: dict) -> None:
    start = time.monotonic()
    with pytest.raises(FrameTimeout):
        read_frame(pipe["r"], 1024, start + 0.2)
    assert 0.19 <= time.monotonic() - start < 2


def test_read_timeout_mid_frame(pipe: dict) -> None:
    os.write(pipe["w"], struct.pack("<Q", 10) + b"abc")
    with pytest.raises(FrameTimeout):
        read_frame(pipe["r"], 1024, time.monotonic() + 0.2)


def test_read_with_expired_deadline_times_out(pipe: dict) -> None:
    write_frame(pipe["w"], b"x")
    with pytest.raises(FrameTimeout):
        read_frame(pipe["r"], 1024, time.monotonic() - 1)


def test_write_timeout_when_peer_does_not_read(pipe: dict) -> None:
    os.set_blocking(pipe["w"], False)
    with pytest.raises(FrameTimeout):
        write_frame(pipe["w"], bytes(1 << 20), deadline=time.monotonic() + 0.2)


def test_eof_before_frame(pipe: dict) -> None:
    close(pipe, "w")
    with pytest.raises(FrameEOF):
        read_frame(pipe["r"], 1024, soon())


@pytest.mark.parametrize(
    ("sent", "match"),
    [
        (b"\x05\x00\x00", "got 3 of 8 length prefix bytes"),
        (struct.pack("<Q", 10) + b"abcd", "got 4 of 10 payload bytes"),
    ],
)
def test_eof_mid_frame(pipe: dict, sent: bytes, match: str) -> None:
    os.write(pipe["w"], sent)
    close(pipe, "w")
    with pytest.raises(WireError, match=match) as info:
        read_frame(pipe["r"], 1024, soon())
    assert not isinstance(info.value, FrameEOF)


def test_declared_length_over_cap(pipe: dict) -> None:
    os.write(pipe["w"], struct.pack("<Q", 2**62))
    with pytest.raises(WireError, match="declares 4611686018427387904 bytes, over the 1024"):
        read_frame(pipe["r"], 1024, soon())


def test_write_to_closed_pipe(pipe: dict) -> None:
    close(pipe, "r")
    with pytest.raises(WireError, match="peer closed"):
        write_frame(pipe["w"], b"data")


def test_read_survives_signal_interruptions(pipe: dict) -> None:
    """EINTR from a signal handler must not abort or restart the frame."""
    interrupts = []
    old = signal.signal(signal.SIGALRM, lambda *_: interrupts.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
    try:
        timer = threading.Timer(0.3, write_frame, (pipe["w"], b"late"))
        timer.start()
        assert read_frame(pipe["r"], 1024, soon()) == b"late"
        timer.join()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert interrupts
