"""One exception tree for every runtime failure the scraper reports.

Each error names what is wrong and where (file and key, URL, status) in its
message, and knows the process exit code the CLI uses for it.  Misuse of the
library API (wrong argument types) raises ``TypeError``/``ValueError`` instead.
"""

from __future__ import annotations

# Documented exit codes (README "Exit codes").
EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130


class ScraperError(Exception):
    """Base class of every error the scraper raises on purpose."""

    exit_code = EXIT_FAILED


class ConfigError(ScraperError):
    """A configuration file (or argument) is invalid."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class FetchError(ScraperError):
    """Fetching a URL failed."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}")

    @property
    def kind(self) -> str:
        """A short machine-readable name of the failure, stored with the fetch record."""
        for cls in type(self).__mro__:
            if cls in _KINDS:
                return _KINDS[cls]
        return "error"


class FetchTimeout(FetchError):
    """Connecting, reading or the whole request took longer than allowed."""


class ResponseTooSlow(FetchTimeout):
    """The whole response took longer than ``total_timeout`` (a server dripping bytes).

    Not retried: a server that drips once drips again, and each try would hold one of
    the host's connection slots for the whole timeout.
    """


class ConnectionFailed(FetchError):
    """The connection could not be made or was reset / cut short."""


class HTTPStatusFailure(FetchError):
    """The server answered with an error status (after retries, where they apply)."""


class RobotsDisallowed(FetchError):
    """robots.txt forbids fetching this URL (or could not be read: RFC 9309)."""


class TooLarge(FetchError):
    """The response (after decompression) exceeded the size cap."""


class NotHTML(FetchError):
    """The response is not a document the scraper can parse."""


class TooManyRedirects(FetchError):
    """Redirects looped or exceeded the limit."""


class AddressRefused(FetchError):
    """The request would connect to an internal address, and its host is not the source's own.

    Private, loopback, link-local (the cloud metadata service), multicast, unspecified and
    reserved addresses are refused unless the host is one of the source's configured hosts
    or the source sets ``allow_private``: a hostile page must not make us fetch from the
    machine's own network. ``host`` is the name asked for, ``address`` the refused address.
    """

    def __init__(self, message: str, *, url: str, host: str = "", address: str = "") -> None:
        self.reason = message
        self.host = host
        self.address = address
        super().__init__(message, url=url)


class Interrupted(FetchError):
    """The run is stopping, so this request was not (or no longer) waited for.

    Raised when a stop cuts a politeness wait or a retry backoff short, or a request would
    start after the stop: not a failure of the site, and never retried.
    """

    exit_code = EXIT_INTERRUPTED


class ExtractError(ScraperError):
    """A document could not be parsed at all."""


class TooComplex(ExtractError):
    """A page would cost too much to read: it nests too deep, or reading it ran past its
    time budget.  Recorded as the page's outcome (``too-complex``); the run goes on."""


class StoreError(ScraperError):
    """The database could not be opened, migrated or written."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class LockHeld(ScraperError):
    """Another run holds the lock on this database."""

    exit_code = EXIT_LOCKED


_KINDS: dict[type[FetchError], str] = {
    FetchTimeout: "timeout",
    ConnectionFailed: "connection",
    HTTPStatusFailure: "http-status",
    RobotsDisallowed: "robots",
    TooLarge: "too-large",
    NotHTML: "not-html",
    TooManyRedirects: "redirects",
    AddressRefused: "address",
    Interrupted: "interrupted",
}
