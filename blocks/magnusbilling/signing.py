"""Request signing exactly as the MagnusBilling server checks it.

The server re-encodes the POST fields it received with PHP `urlencode` (space as `+`, every
byte outside `[A-Za-z0-9_.-]` as `%XX`, `~` included) and computes HMAC-SHA512 over that with
the API secret. So we encode the same way, sign that text, and send exactly those bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import quote_plus


def php_urlencode(value: str) -> str:
    return quote_plus(value, safe="").replace("~", "%7E")


def encode_form(fields: Sequence[tuple[str, str]]) -> str:
    """`http_build_query` of the fields, in the order given."""
    return "&".join(f"{php_urlencode(key)}={php_urlencode(value)}" for key, value in fields)


def sign(secret: str, body: str) -> str:
    """Lower-case hex HMAC-SHA512 of the body, keyed by the API secret."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha512).hexdigest()
