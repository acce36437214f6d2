"""What a failed pip-part install means: the installer's output matched against known
messages, turned into one error with the cause and a fix."""

from __future__ import annotations

import re

from provisioner.errors import ExternalFailure

# Known installer messages -> (cause, fix). Order matters: the first match wins.
_FAILURES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"hash mismatch|do not match the hashes|THESE PACKAGES DO NOT MATCH", re.I),
        "a downloaded package does not match the sha256 in the lock (tampered or "
        "re-uploaded artifact); it was refused and not installed",
        "check the package source, then re-lock with `provision lock PROFILE` if the "
        "new artifact is trusted",
    ),
    (
        re.compile(r"No space left on device|ENOSPC|\[Errno 28\]", re.I),
        "the disk is full",
        "free space on the disk that holds the environment and the package cache "
        "(UV_CACHE_DIR), then apply again",
    ),
    (
        re.compile(r"network (connectivity )?is disabled|--offline|not found in the cache", re.I),
        "offline, and a locked package is not in the local cache",
        "connect to the package index once (or copy the cache), then apply again",
    ),
    (
        re.compile(
            r"Failed to fetch|error sending request|dns error|Could not fetch URL|"
            r"Connection refused|Name or service not known|Temporary failure in name "
            r"resolution|Max retries exceeded|timed out",
            re.I,
        ),
        "the pip package index is unreachable",
        "check the network, the proxy (environment.proxy) and environment.index_url, "
        "then apply again",
    ),
)


def explain_install_failure(text: str, *, fallback: Exception | None = None) -> ExternalFailure:
    """Turn an installer's output into one error with a cause and a fix."""
    for pattern, cause, fix in _FAILURES:
        if pattern.search(text):
            return ExternalFailure(f"installing the pip part failed: {cause}", hint=fix)
    last = next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "")
    detail = str(fallback) if fallback is not None and not last else last
    return ExternalFailure(
        f"installing the pip part failed: {detail}",
        hint="run again with -v to see the installer's full output",
    )
