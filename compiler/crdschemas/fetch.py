"""Downloads for `schemas pull`, which must not trust the server.

* https only; plain http only to a loopback host (a local mirror, the tests);
* redirects only to the same host (and never from https down to http);
* a size cap, and a deadline for the whole download: the socket timeout alone would let a
  server that drips one byte every few seconds hold a pull forever;
* no proxies from the environment for loopback hosts.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 32 * 1024 * 1024  # the largest CRD files (Prometheus, InferenceService) are a few MB
READ_TIMEOUT = 10.0  # seconds without a byte, per socket read
CHUNK = 64 * 1024


class FetchError(OSError):
    """A download was refused or failed; the message says which URL and why."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return parts
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return parts
    raise FetchError(f"refusing {url}: only https:// URLs are fetched (plain http only from a loopback host)")


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (
            new.hostname != old.hostname
            or new.port != old.port
            or (old.scheme, new.scheme) == ("https", "http")
        ):
            raise FetchError(f"refusing redirect from {req.full_url} to {newurl}: another host")
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class Deadline:
    """Seconds left for a whole pull; every download draws on the same budget."""

    seconds: float
    start: float = 0.0

    def __post_init__(self) -> None:
        self.start = time.monotonic()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)


def fetch_bytes(url: str, deadline: Deadline | None = None, max_bytes: int = MAX_BYTES) -> bytes:
    """The body at `url`, or FetchError. Bounded in size and in total time."""
    deadline = deadline or Deadline(120.0)
    parts = check_url(url)
    handlers: list[Any] = [_SameHostRedirects()]
    if is_loopback(parts.hostname):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": "platformc-schemas-pull"})
    if deadline.left() <= 0:
        raise FetchError(f"no time left for {url} (the pull's {deadline.seconds:g}s budget is spent)")
    try:
        with opener.open(request, timeout=min(READ_TIMEOUT, deadline.left())) as response:
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read1(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url} is larger than {max_bytes} bytes")
                if deadline.left() <= 0:
                    raise FetchError(f"timed out fetching {url} (the pull's {deadline.seconds:g}s budget)")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"HTTP {exc.code} for {url}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FetchError):
            raise exc.reason from None
        raise FetchError(f"cannot fetch {url}: {exc.reason}") from None
    except TimeoutError:
        raise FetchError(f"timed out fetching {url} (no byte for {READ_TIMEOUT:g}s)") from None
    except FetchError:
        raise
    except OSError as exc:  # connection reset, TLS errors, ...
        raise FetchError(f"cannot fetch {url}: {exc}") from None
    return b"".join(chunks)
