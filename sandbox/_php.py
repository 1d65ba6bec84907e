"""Small re-implementations of PHP behaviour that the emulated servers (both PHP apps) expose.

MagnusBilling and IXC are PHP applications: how they parse form bodies, re-encode them for the
HMAC, coerce strings to numbers and escape JSON is visible to clients, so the sandbox copies it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote_plus, unquote_to_bytes

import orjson

_NON_ASCII = re.compile(r"[^\x00-\x7e]")  # DEL too, as the stdlib escapes it
_PHP_INT_PREFIX = re.compile(r"\s*[+-]?\d+")
_PHP_NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_PHP_FLOAT_PREFIX = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def php_urlencode(raw: bytes | str) -> str:
    """PHP `urlencode`: like quote_plus with nothing safe, and `~` escaped too."""
    return quote_plus(raw, safe="").replace("~", "%7E")


def parse_php_form(body: bytes) -> dict[str, bytes | list[bytes]]:
    """Parse a form body the way PHP fills `$_POST`, keeping raw bytes for exact re-encoding.

    A repeated key keeps its first position and its last value; `name[]` keys collect a list;
    dots and spaces in names become underscores (PHP's register-globals legacy).
    """
    fields: dict[str, bytes | list[bytes]] = {}
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition(b"=")
        key = unquote_to_bytes(raw_key.replace(b"+", b" ")).decode("utf-8", "replace")
        value = unquote_to_bytes(raw_value.replace(b"+", b" "))
        if key.endswith("[]"):
            bucket = fields.setdefault(key[:-2], [])
            if isinstance(bucket, list):
                bucket.append(value)
            continue
        fields[key.replace(".", "_").replace(" ", "_")] = value
    return fields


def http_build_query(fields: dict[str, bytes | list[bytes]]) -> str:
    """PHP `http_build_query($_POST)`: what MagnusBilling signs on its side."""
    parts: list[str] = []
    for key, value in fields.items():
        if isinstance(value, list):
            parts.extend(
                f"{php_urlencode(f'{key}[{index}]')}={php_urlencode(item)}"
                for index, item in enumerate(value)
            )
        else:
            parts.append(f"{php_urlencode(key)}={php_urlencode(value)}")
    return "&".join(parts)


def php_json(value: Any) -> str:
    """PHP `json_encode` with default flags: compact, `\\uXXXX` for non-ASCII and `\\/`.

    Pages of thousands of rows are encoded by orjson (a tenth of the stdlib's time), then given
    PHP's escapes; what orjson refuses (non-string keys, huge ints) goes through the stdlib.
    """
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _NON_ASCII.sub(_escape_non_ascii, text).replace("/", "\\/")


def _escape_non_ascii(match: re.Match[str]) -> str:
    """`\\uXXXX` (lower-case hex, as PHP and Python write it); a surrogate pair above U+FFFF."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


def php_is_numeric(text: str) -> bool:
    """PHP `is_numeric` for strings (leading and trailing whitespace allowed)."""
    return _PHP_NUMERIC.fullmatch(text) is not None


def php_intval(text: str) -> int:
    """PHP `(int)` cast of a string: the leading integer, or 0."""
    match = _PHP_INT_PREFIX.match(text)
    return int(match.group()) if match else 0


def mysql_number(text: str) -> float:
    """How MySQL/MariaDB reads a string in a numeric comparison: the leading number, else 0."""
    match = _PHP_FLOAT_PREFIX.match(text)
    return float(match.group()) if match else 0.0
