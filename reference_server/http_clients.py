"""TLS settings for the server's own HTTP clients: backends, the JWKS issuer, the auth validator.

httpx builds an SSL context for every client and loads the whole CA bundle into it, 50-100 ms a
client on a small machine: paid at start-up for each backend, again when the serving loop opens
its own client, and on every call of a validator that is asked per request. Most of these URLs
are plain http on loopback, where no TLS is ever negotiated, so they get none; an https URL with
the default verification shares one context built on first use.
"""

from __future__ import annotations

import functools
import ssl

import certifi


@functools.cache
def _verified_context() -> ssl.SSLContext:
    # What httpx builds for verify=True, with the standard library (httpx.create_ssl_context is
    # public only from httpx 0.28; this project supports 0.27).
    return ssl.create_default_context(cafile=certifi.where())


def tls_for(url: str, verify: bool | str) -> bool | str | ssl.SSLContext:
    """What to give httpx as ``verify`` for a client that talks only to ``url`` (it follows no
    redirects): nothing to build for http, the shared context for default verification, else
    the setting as configured (False, or a CA file read afresh each time)."""
    if not url.lower().startswith("https://"):
        return False
    if verify is True:
        return _verified_context()
    return verify
