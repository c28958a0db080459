"""Talking to a running Anki through the AnkiConnect add-on (HTTP JSON, API version 6).

Most Markdown-to-Anki tools reach a running Anki this way: ``{"action", "version", "params"}``
posted to ``http://127.0.0.1:8765``, answered ``{"result", "error"}``. What comes back is read as
data only, and no more of it than :data:`MAX_REPLY` bytes: whatever listens on that port is not
trusted to be AnkiConnect.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8765"
ENV_URL = "GUIDEDECK_ANKI_CONNECT"
"""The environment variable ``--anki-connect`` reads its default from (``off``: never try it)."""
ENV_KEY = "GUIDEDECK_ANKI_CONNECT_KEY"
"""The add-on's ``apiKey``, when the learner set one."""
OFF = "off"
API_VERSION = 6
MAX_REPLY = 256 * 1024 * 1024
"""The largest reply read (every guidedeck note of a large collection is a few MB)."""
PROBE_SECONDS = 1.0
CALL_SECONDS = 600.0
"""An import of a large package runs inside Anki before the reply comes."""


class ConnectError(Exception):
    """AnkiConnect answered with an error, or not as AnkiConnect answers."""


class NotListeningError(ConnectError):
    """Nothing answers at the URL (Anki closed, or the add-on not installed)."""


def default_url() -> str | None:
    """The URL tried when none is given (None: AnkiConnect is switched off)."""
    value = os.environ.get(ENV_URL, DEFAULT_URL).strip()
    return None if value.lower() == OFF else value


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host, else :class:`ConnectError`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(f"--anki-connect {url!r}: give an http URL such as {DEFAULT_URL}")
    return url


def is_this_machine(url: str) -> bool:
    """Whether ``url`` names this machine (Anki imports a package from its own disk)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AnkiConnect:
    """A client of one AnkiConnect server."""

    def __init__(self, url: str, key: str | None = None, timeout: float = CALL_SECONDS) -> None:
        self.url = check_url(url)
        self.key = key if key is not None else os.environ.get(ENV_KEY) or None
        self.timeout = timeout

    def _request(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"action": action, "version": API_VERSION, "params": params}
        if self.key is not None:
            body["key"] = self.key
        return body

    def call(self, action: str, **params: Any) -> Any:
        """The result of one action; :class:`ConnectError` with the add-on's own message."""
        return _result(action, self._post(self._request(action, params)))

    def multi(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        """The results of several actions in one request, in order."""
        if not calls:
            return []
        actions = [self._request(a, p) for a, p in calls]
        replies = self.call("multi", actions=actions)
        if not isinstance(replies, list) or len(replies) != len(calls):
            raise ConnectError("multi: AnkiConnect answered with another number of results")
        return [_result(a, r) for (a, _p), r in zip(calls, replies, strict=True)]

    def _post(self, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url, data, {"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                raw = reply.read(MAX_REPLY + 1)
        except urllib.error.HTTPError as exc:
            raise ConnectError(f"{self.url} answered HTTP {exc.code}: not AnkiConnect") from None
        except (TimeoutError, ConnectionError, urllib.error.URLError) as exc:
            raise NotListeningError(
                f"AnkiConnect does not answer at {self.url} ({_why(exc)})"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise ConnectError(f"AnkiConnect at {self.url}: {exc!r}") from None
        if len(raw) > MAX_REPLY:
            raise ConnectError(f"{self.url} answered with more than {MAX_REPLY} bytes")
        try:
            return json.loads(raw)
        except ValueError:
            raise ConnectError(f"{self.url} does not answer as AnkiConnect does") from None


def _why(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    return str(getattr(reason, "strerror", None) or reason)


def _result(action: str, reply: Any) -> Any:
    if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
        raise ConnectError(f"{action}: the answer is not AnkiConnect's (API version 6)")
    if reply["error"] is not None:
        raise ConnectError(f"AnkiConnect refused {action}: {reply['error']}")
    return reply["result"]


def reach(url: str, key: str | None = None) -> AnkiConnect | None:
    """A client of the AnkiConnect answering at ``url``, or None when nothing listens there."""
    client = AnkiConnect(url, key, timeout=PROBE_SECONDS)
    try:
        version = client.call("version")
    except NotListeningError:
        return None
    if not isinstance(version, int) or version < API_VERSION:
        raise ConnectError(
            f"AnkiConnect at {url} speaks API version {version}; guidedeck needs {API_VERSION}"
        )
    return AnkiConnect(url, key)


__all__ = [
    "DEFAULT_URL",
    "AnkiConnect",
    "ConnectError",
    "NotListeningError",
    "check_url",
    "default_url",
    "is_this_machine",
    "reach",
]
