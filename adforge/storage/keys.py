"""Content keys: what a stage output is stored under, and the hashes they are made of.

    key = "{stage}/{digest[:2]}/{digest}.{ext}",  digest = sha256(canonical JSON of
          stage, inputs (hashes or keys of upstream data), params, backend)

A rerun that computes the same key finds the output already there and skips the stage,
so the same value must always give the same text: `canonical_json` sorts keys and
normalises the non-JSON types that stage inputs and parameters carry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel

SAFE_STAGE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SAFE_EXT = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*$")
CHUNK_BYTES = 1 << 20


def sha256_bytes(data: bytes | bytearray | memoryview) -> str:
    """Hex sha256 of in-memory bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    """`json.dumps` fallback: the non-JSON types that stage inputs and params carry."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, set | frozenset):
        return sorted(value, key=canonical_json)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot hash a {type(value).__name__} into a content key: {value!r}")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, no NaN, non-JSON types normalised."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False, default=_jsonable,
    )


def content_key(stage: str, *, inputs: dict, params: dict, backend: str, ext: str) -> str:
    """The store key of a stage output: a hash of everything that determines it.

    `inputs` holds hashes or keys of upstream data (never the data); `params` the stage
    parameters (seed included); `backend` the backend name (and model id when it matters).
    """
    if not SAFE_STAGE.match(stage):
        raise ValueError(f"stage {stage!r} must be lower-case letters, digits, '-' or '_'")
    ext = ext.lstrip(".").lower()
    if not SAFE_EXT.match(ext):
        raise ValueError(f"extension {ext!r} must be letters and digits, e.g. 'png'")
    payload = {"stage": stage, "inputs": inputs, "params": params, "backend": backend}
    digest = hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
    return f"{stage}/{digest[:2]}/{digest}.{ext}"


def check_key(key: str) -> str:
    """A key is a relative POSIX path without '.', '..', hidden or empty segments."""
    parts = key.split("/")
    bad = (
        not key or "\\" in key or "\x00" in key or key.startswith("/")
        or any(not part or part.startswith(".") for part in parts)
    )
    if bad:
        raise ValueError(
            f"store key {key!r} must be a relative path like 'segment/ab/abcd.png' "
            "(no leading '/', no '..', no hidden or empty parts)"
        )
    return key


CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".webp": "image/webp", ".json": "application/json",
                 ".html": "text/html; charset=utf-8"}


def content_type_of(key: str) -> str:
    """The content type of a stored object or file, from its name's extension."""
    return CONTENT_TYPES.get(PurePath(key).suffix.lower(), "application/octet-stream")
