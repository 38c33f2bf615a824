"""Plain-data wire format between the trusted grader and untrusted worker processes.

A message is ``header || json || blob``:

* header: ``struct "<4sHQQ"`` = magic ``b"AGW\\x00"``, format version, JSON length, blob length;
* json: UTF-8 JSON tree of nodes ``{"kind": ..., ...}`` (see ``_KEYS`` for the exact shapes);
* blob: raw little-endian tensor bytes, one tensor after another in tree order, no gaps.

Messages travel in frames (`autograder.sandbox.frames`).

``decode`` is the security boundary: it treats its input as hostile, validates every field
against ``Limits`` and builds only plain values and fresh tensors (no pickle, eval or
``torch.load``).
"""

import json
import math
import struct
import sys
from dataclasses import dataclass
from typing import Any

import torch

from autograder.sandbox.frames import (
    FrameEOF,
    FrameTimeout,
    FrameTooLarge,
    WireError,
    read_frame,
    write_frame,
)

if sys.byteorder != "little":
    raise ImportError("autograder.sandbox.wire only supports little-endian hosts")

MAGIC = b"AGW\x00"
VERSION = 1
_HEADER = struct.Struct("<4sHQQ")  # magic, version, JSON length, blob length
_OPAQUE_MAX = 200  # cap on the type name and text of an opaque node

DTYPES: dict[str, torch.dtype] = {
    name: getattr(torch, name)
    for name in (
        "float16", "bfloat16", "float32", "float64",
        "int8", "int16", "int32", "int64", "uint8", "bool",
    )
}  # fmt: skip
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}

# Exact key set of each node kind.
_KEYS: dict[str, frozenset[str]] = {
    "none": frozenset({"kind"}),
    "bool": frozenset({"kind", "value"}),
    "int": frozenset({"kind", "value"}),
    "float": frozenset({"kind", "value"}),  # JSON number, or "nan" / "inf" / "-inf"
    "str": frozenset({"kind", "value"}),
    "list": frozenset({"kind", "value"}),  # list of nodes
    "tuple": frozenset({"kind", "value"}),  # list of nodes
    "dict": frozenset({"kind", "value"}),  # list of [str key, node] pairs
    "tensor": frozenset({"kind", "dtype", "shape", "offset", "nbytes"}),
    "opaque": frozenset({"kind", "type", "text"}),
}
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass(frozen=True)
class Opaque:
    """Stand-in for a value of an unsupported type: its type name and a capped repr."""

    type_name: str
    text: str


@dataclass(frozen=True)
class Limits:
    """Bounds enforced by ``decode`` (``encode`` only uses ``max_depth``)."""

    max_bytes: int = 256 << 20  # whole message
    max_header_bytes: int = 8 << 20  # JSON part; bounds parser memory before other checks
    max_depth: int = 16  # containers enclosing the deepest node
    max_items: int = 10_000  # nodes in the tree
    max_elements: int = 50_000_000  # per tensor
    max_dims: int = 8  # per tensor
    max_str: int = 1 << 20  # characters per string or dict key
    max_int_bits: int = 64  # ints need abs(x) < 2**max_int_bits


DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------- encoding (untrusted side)


def encode(value: Any, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Serialise ``value``; unsupported objects become opaque nodes.

    Raises ``WireError`` if containers nest deeper than ``limits.max_depth`` (e.g. cycles).
    """
    chunks: list[bytes] = []
    tree = _encode_node(value, 0, limits.max_depth, chunks)
    text = json.dumps(tree, separators=(",", ":"), allow_nan=False).encode()
    blob_len = sum(map(len, chunks))
    return b"".join([_HEADER.pack(MAGIC, VERSION, len(text), blob_len), text, *chunks])


def _encode_node(value: Any, depth: int, max_depth: int, chunks: list[bytes]) -> dict[str, Any]:
    if depth > max_depth:
        raise WireError(f"value nests containers deeper than {max_depth} levels")
    # Subclasses of int/float/str/tuple/list/dict are sent as their plain base value.
    if value is None:
        return {"kind": "none"}
    if isinstance(value, bool):
        return {"kind": "bool", "value": value}
    if isinstance(value, int):
        return {"kind": "int", "value": int.__int__(value)}
    if isinstance(value, float):
        number = float.__float__(value)
        if math.isfinite(number):
            return {"kind": "float", "value": number}
        return {"kind": "float", "value": "nan" if math.isnan(number) else str(number)}
    if isinstance(value, str):
        return {"kind": "str", "value": str.__str__(value)}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, chunks)
    if isinstance(value, list | tuple):
        items = [_encode_node(item, depth + 1, max_depth, chunks) for item in value]
        return {"kind": "tuple" if isinstance(value, tuple) else "list", "value": items}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        pairs = [
            [str.__str__(key), _encode_node(item, depth + 1, max_depth, chunks)]
            for key, item in dict.items(value)
        ]
        return {"kind": "dict", "value": pairs}
    return _opaque_node(value, _safe_repr(value))


def _encode_tensor(value: torch.Tensor, chunks: list[bytes]) -> dict[str, Any]:
    try:
        with torch._C.DisableTorchFunctionSubclass():
            plain = torch.Tensor.as_subclass(value, torch.Tensor).detach().cpu().resolve_neg()
            name = _DTYPE_NAMES.get(plain.dtype)
            if name is None:
                return _opaque_node(value, f"dtype={plain.dtype}, shape={tuple(plain.shape)}")
            # numpy has no bfloat16: reinterpret the same bits as int16.
            raw = plain.view(torch.int16) if name == "bfloat16" else plain
            data = raw.numpy().tobytes()  # C-order copy, also for non-contiguous tensors
            shape = list(plain.shape)
    except Exception as exc:  # e.g. sparse or meta tensors, odd subclasses
        return _opaque_node(value, f"tensor could not be read: {exc}")
    offset = sum(map(len, chunks))
    chunks.append(data)
    return {"kind": "tensor", "dtype": name, "shape": shape, "offset": offset, "nbytes": len(data)}


def _opaque_node(value: object, text: str) -> dict[str, Any]:
    cls = type(value)
    module = cls.__module__
    name = cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"
    return {"kind": "opaque", "type": _truncate(name), "text": _truncate(text)}


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as exc:
        return f"<repr failed: {type(exc).__name__}>"


def _truncate(text: str) -> str:
    return text if len(text) <= _OPAQUE_MAX else text[: _OPAQUE_MAX - 3] + "..."


# ------------------------------------------------------------------ decoding (trust boundary)


def decode(data: bytes | bytearray | memoryview, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Validate and rebuild a message made by ``encode``; raise ``WireError`` if malformed."""
    view = memoryview(data).cast("B")
    if len(view) > limits.max_bytes:
        raise WireError(f"message is {len(view)} bytes, over the {limits.max_bytes}-byte limit")
    if len(view) < _HEADER.size:
        raise WireError(f"message is {len(view)} bytes, shorter than the header")
    magic, version, json_len, blob_len = _HEADER.unpack_from(view)
    if magic != MAGIC:
        raise WireError(f"bad magic {bytes(magic)!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise WireError(f"unsupported format version {version}, expected {VERSION}")
    if json_len > limits.max_header_bytes:
        raise WireError(f"JSON header is {json_len} bytes, over {limits.max_header_bytes}")
    if _HEADER.size + json_len + blob_len != len(view):
        raise WireError(
            f"message is {len(view)} bytes but its header declares {_HEADER.size} + "
            f"{json_len} (JSON) + {blob_len} (blob) bytes"
        )
    tree = _parse_json(view[_HEADER.size : _HEADER.size + json_len], limits)
    decoder = _Decoder(limits, view[_HEADER.size + json_len :])
    value = decoder.node(tree, 0, "$")
    if decoder.cursor != blob_len:
        raise WireError(f"blob has {blob_len - decoder.cursor} trailing bytes used by no tensor")
    return value


def _parse_json(raw: memoryview, limits: Limits) -> Any:
    # Enough digits for any int below 2**max_int_bits, and for 64-bit offsets and sizes.
    max_digits = max(limits.max_int_bits, 64) // 3 + 2

    def parse_int(literal: str) -> int:
        if len(literal) > max_digits:
            raise WireError(f"JSON integer literal has {len(literal)} characters, too long")
        return int(literal)

    def parse_constant(literal: str) -> float:
        raise WireError(f"JSON literal {literal} is not allowed (floats are encoded explicitly)")

    def make_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise WireError("JSON object has duplicate keys")
        return obj

    try:
        text = str(raw, "utf-8")
        return json.loads(
            text,
            parse_int=parse_int,
            parse_constant=parse_constant,
            object_pairs_hook=make_object,
        )
    except WireError:
        raise
    except UnicodeDecodeError as exc:
        raise WireError(f"JSON header is not valid UTF-8: {exc}") from None
    except RecursionError:
        raise WireError("JSON header nests too deeply to parse") from None
    except ValueError as exc:
        raise WireError(f"JSON header is not valid JSON: {exc}") from None


class _Decoder:
    """Walks a parsed JSON tree; ``cursor`` is where the next tensor's bytes must start."""

    def __init__(self, limits: Limits, blob: memoryview) -> None:
        self.limits = limits
        self.blob = blob
        self.cursor = 0
        self.items = 0

    def node(self, node: Any, depth: int, path: str) -> Any:
        lim = self.limits
        if depth > lim.max_depth:
            raise WireError(f"{path}: nested deeper than {lim.max_depth} containers")
        self.items += 1
        if self.items > lim.max_items:
            raise WireError(f"{path}: message has more than {lim.max_items} nodes")
        if type(node) is not dict:
            raise WireError(f"{path}: node must be a JSON object, got {_describe(node)}")
        kind = node.get("kind")
        if type(kind) is not str or kind not in _KEYS:
            raise WireError(f"{path}: unknown node kind {_describe(kind)}")
        if node.keys() != _KEYS[kind]:
            raise WireError(
                f"{path}: {kind} node must have keys {sorted(_KEYS[kind])}, got {sorted(node)}"
            )
        if kind == "none":
            return None
        if kind == "tensor":
            return self.tensor(node, path)
        if kind == "opaque":
            return Opaque(
                self.text(node, "type", path, _OPAQUE_MAX),
                self.text(node, "text", path, _OPAQUE_MAX),
            )
        value = node["value"]
        if kind == "bool":
            _expect(type(value) is bool, path, "bool value", "true or false", value)
        elif kind == "int":
            _expect(type(value) is int, path, "int value", "a JSON integer", value)
            if value.bit_length() > lim.max_int_bits:
                raise WireError(f"{path}: int is over {lim.max_int_bits} bits")
        elif kind == "float":
            if type(value) is str and value in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[value]
            ok = type(value) is float and math.isfinite(value)
            _expect(ok, path, "float value", 'a finite JSON float or "nan"/"inf"/"-inf"', value)
        elif kind == "str":
            return self.text(node, "value", path, lim.max_str)
        else:  # list, tuple, dict
            _expect(type(value) is list, path, f"{kind} value", "a JSON array", value)
            if kind == "dict":
                return self.dict_items(value, depth, path)
            items = [self.node(item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value)]
            return tuple(items) if kind == "tuple" else items
        return value

    def dict_items(self, pairs: list[Any], depth: int, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for i, pair in enumerate(pairs):
            ok = type(pair) is list and len(pair) == 2
            _expect(ok, f"{path}[{i}]", "dict entry", "a [key, node] pair", pair)
            key, item = pair
            _expect(type(key) is str, f"{path}[{i}]", "dict key", "a string", key)
            if len(key) > self.limits.max_str:
                raise WireError(f"{path}[{i}]: dict key is over {self.limits.max_str} characters")
            if key in result:
                raise WireError(f"{path}[{i}]: duplicate dict key {key[:50]!r}")
            result[key] = self.node(item, depth + 1, f"{path}[{key[:50]!r}]")
        return result

    def text(self, node: dict[str, Any], field: str, path: str, max_len: int) -> str:
        value = node[field]
        _expect(type(value) is str, path, field, "a string", value)
        if len(value) > max_len:
            raise WireError(f"{path}: {field} is {len(value)} characters, over {max_len}")
        return value

    def tensor(self, node: dict[str, Any], path: str) -> torch.Tensor:
        lim = self.limits
        name, shape, offset, nbytes = node["dtype"], node["shape"], node["offset"], node["nbytes"]
        dtype = DTYPES.get(name) if type(name) is str else None
        if dtype is None:
            raise WireError(f"{path}: tensor dtype {_describe(name)} is not allowed")
        ok = type(shape) is list and all(type(d) is int and d >= 0 for d in shape)
        _expect(ok, path, "tensor shape", "a list of non-negative ints", shape)
        if len(shape) > lim.max_dims:
            raise WireError(f"{path}: tensor has {len(shape)} dims, over {lim.max_dims}")
        numel = math.prod(shape)
        if numel > lim.max_elements or any(d > lim.max_elements for d in shape):
            raise WireError(f"{path}: tensor shape {shape} is over {lim.max_elements} elements")
        for field, value in (("offset", offset), ("nbytes", nbytes)):
            ok = type(value) is int and value >= 0
            _expect(ok, path, f"tensor {field}", "an int >= 0", value)
        if nbytes != numel * dtype.itemsize:
            raise WireError(f"{path}: tensor nbytes {nbytes} != {numel} * {dtype.itemsize}")
        if offset != self.cursor:
            raise WireError(f"{path}: tensor offset {offset} != {self.cursor} (next free byte)")
        if offset + nbytes > len(self.blob):
            raise WireError(f"{path}: tensor ends past the {len(self.blob)}-byte blob")
        self.cursor += nbytes
        if nbytes == 0:  # torch.frombuffer rejects empty buffers
            return torch.empty(shape, dtype=dtype)
        raw = bytearray(self.blob[offset : offset + nbytes])  # a copy: never alias the message
        if dtype is torch.bool and raw.translate(None, b"\x00\x01"):
            raise WireError(f"{path}: bool tensor holds bytes other than 0 and 1")
        return torch.frombuffer(raw, dtype=dtype).reshape(shape)


def _expect(ok: bool, path: str, field: str, wanted: str, got: Any) -> None:
    if not ok:
        raise WireError(f"{path}: {field} must be {wanted}, got {_describe(got)}")


def _describe(value: Any) -> str:
    """Name a parsed JSON value briefly (never repr a hostile container: it may be huge or deep)."""
    if type(value) is list:
        return f"an array of {len(value)} items"
    if type(value) is dict:
        return f"an object with {len(value)} keys"
    shown = repr(value[:40] if type(value) is str else value)
    names = {bool: "bool", int: "int", float: "float", str: "string"}
    return f"{names.get(type(value), 'null')} {shown[:60]}"


__all__ = [
    "DEFAULT_LIMITS", "DTYPES", "FrameEOF", "FrameTimeout", "FrameTooLarge", "Limits", "Opaque",
    "WireError", "decode", "encode", "read_frame", "write_frame",
]  # fmt: skip
