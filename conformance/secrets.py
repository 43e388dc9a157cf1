"""The run's secrets, and the one place that keeps them out of every byte the run writes.

A secret reaches output by paths nobody plans for: pytest prints fixture values and locals in a
traceback, a hostile target echoes the token in its answer, an exception names a URL with its
password, a launched server logs its environment. Hiding each path one by one is how one is
missed, so everything the suite writes (test reports before pytest sees them, results.json,
report.html, JUnit through the reports, kept server logs, one-line errors) passes through
`SECRETS.scrub`, and the objects that hold secrets keep them out of their ``repr`` as a second
line of defence.

Values shorter than `MIN_LENGTH` are not masked: they would blank out ordinary words of the
output, and a credential that short is guessable anyway.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
MIN_LENGTH = 4
# Environment variables of a scenario whose values are secrets, by name.
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|CREDENTIALS?)(_[A-Z0-9]+)?$")

T = TypeVar("T")


class Secrets:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        """Remember a secret in the forms it travels in: as is, URL-encoded and decoded, JSON-escaped."""
        if not value or len(value) < MIN_LENGTH:
            return
        forms = {value, quote(value, safe=""), unquote(value), json.dumps(value)[1:-1]}
        self._values |= {form for form in forms if len(form) >= MIN_LENGTH}
        self._pattern = None

    def add_url_credentials(self, url: str | None) -> None:
        """A URL's password, and the Basic credential a client builds from it."""
        if not url:
            return
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:  # not a URL after all (a stray bracket)
            return
        if password:
            self.add(password)
            user_pass = f"{unquote(parts.username or '')}:{unquote(password)}"
            self.add(base64.b64encode(user_pass.encode()).decode())

    def add_environment(self, env: dict[str, str]) -> None:
        """Values of secret-named variables, and the password of any value that is a URL with one
        (``REDIS_URL=redis://:pw@host`` is a secret whatever the variable is called)."""
        for name, value in env.items():
            if SECRET_NAME.search(name.upper()):
                self.add(value)
            elif "@" in value and "://" in value:
                self.add_url_credentials(value)

    def __bool__(self) -> bool:
        return bool(self._values)

    def scrub(self, text: str) -> str:
        if not self._values or not text:
            return text
        if self._pattern is None:
            # Longest first, so a secret that contains another is masked whole.
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in alternatives))
        return self._pattern.sub(MASK, text)

    def scrub_deep(self, value: T) -> T:
        """Mask secrets inside pytest's report objects in place, keeping their structure.

        A failure's representation is a tree of dataclasses (entries, locals, file locations)
        holding strings; turning it into one string would lose the crash line that verdicts and
        JUnit read, so each string is masked where it stands."""
        if not self._values:
            return value
        return self._deep(value, set())  # type: ignore[no-any-return]

    def _deep(self, value: Any, seen: set[int]) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, bytes):
            return self.scrub(value.decode("utf-8", "replace")).encode()
        if id(value) in seen:
            return value
        seen.add(id(value))
        if isinstance(value, list):
            value[:] = [self._deep(item, seen) for item in value]
            return value
        if isinstance(value, tuple):
            return (
                type(value)(*(self._deep(item, seen) for item in value))
                if hasattr(value, "_fields")
                else tuple(self._deep(item, seen) for item in value)
            )
        if isinstance(value, dict):
            for key in list(value):
                value[key] = self._deep(value[key], seen)
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for item in dataclasses.fields(value):
                object.__setattr__(value, item.name, self._deep(getattr(value, item.name), seen))
        elif type(value).__module__.startswith("_pytest.") and hasattr(value, "__dict__"):
            for name, attribute in vars(value).items():  # the few report classes that are not dataclasses
                setattr(value, name, self._deep(attribute, seen))
        return value


# One registry per process: the suite's options, the URL and the scenarios add to it at start-up
# (in the xdist controller and in each worker alike).
SECRETS = Secrets()
