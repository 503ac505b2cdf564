"""One bounded HTTP GET (the JWT key server): a timeout, a size limit, and no interpretation of the answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpAnswer:
    """What came back: `status` None on a timeout, 0 when nothing usable came (then `problem` says why)."""

    status: int | None
    body: bytes = b""
    problem: str = ""


def http_get(url: str, *, timeout: float, limit: int) -> HttpAnswer:
    """GET `url` (http or https only), reading at most `limit` bytes of the body within `timeout` per operation."""
    import urllib.error
    import urllib.request

    if not url.startswith(("https://", "http://")):
        return HttpAnswer(0, problem="not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 -- scheme checked above
            status, body = response.status, response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(limit + 1)
    except TimeoutError:
        return HttpAnswer(None)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpAnswer(None) if isinstance(reason, TimeoutError) else HttpAnswer(0, problem=str(reason))
    if len(body) > limit:
        return HttpAnswer(0, problem=f"answer larger than {limit} bytes")
    return HttpAnswer(status, body)
