"""Check the profile's download locations: pip indexes, find-links and the proxy.

They reach pip option lines in ``environment.yml`` (``--index-url URL``), uv's and
rattler's command lines and proxy variables, so a value must be one word: an
http(s) or file URL of RFC 3986 characters, without spaces, quotes or control
characters (percent-encode them). ``find_links`` may also be a local folder.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# RFC 3986 unreserved + reserved characters and '%' (for %XX), minus the single quote.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")  # 2+ letters: "C:\x" is a drive
_QUOTES = "'\"`\u2018\u2019\u201a\u201b\u201c\u201d\u201e"


def check_index_url(value: str) -> str:
    """An ``index_url`` / ``extra_index_urls`` entry: an http(s) or file URL."""
    return _check_url(value, ("http", "https", "file"), "an http(s) or file:// URL")


def check_proxy_url(value: str) -> str:
    """``proxy``: an http(s) URL (``http://proxy:3128``)."""
    return _check_url(value, ("http", "https"), "an http(s) URL like http://proxy:3128")


def check_find_link(value: str) -> str:
    """A ``find_links`` entry: an http(s)/file URL, or a local folder path."""
    if _SCHEME.match(value):
        return _check_url(value, ("http", "https", "file"), "an http(s) or file:// URL or a folder")
    bad = next((c for c in value if c.isspace() or not c.isprintable() or c in _QUOTES), None)
    if not value or bad is not None:
        what = "is empty" if not value else f"contains {bad!a}"
        raise ValueError(
            f'find-links folder "{value}" {what}: use a path without spaces, quotes or '
            "control characters, or a file:// URL"
        )
    return value


def _check_url(value: str, schemes: tuple[str, ...], wanted: str) -> str:
    if not value:
        raise ValueError(f'"" is empty: write {wanted}')
    bad = next((c for c in value if not _URL_CHARS.match(c)), None)
    if bad is not None:
        raise ValueError(
            f'"{value}" contains {bad!a}: {wanted} cannot contain spaces, quotes or control '
            "characters (percent-encode them: %20, %22)"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as e:
        raise ValueError(f'"{value}" is not {wanted}: {e}') from None
    if parts.scheme.lower() not in schemes:
        raise ValueError(f'"{value}" is not {wanted}')
    if parts.scheme.lower() == "file":
        if not parts.path:
            raise ValueError(f'"{value}" names no folder: write file:///absolute/path')
    elif not parts.hostname:
        raise ValueError(f'"{value}" has no host: write {parts.scheme}://host/...')
    return value
