"""The suite's options. Each resolves flag -> environment variable -> ini key -> default.

An environment variable or ini key that is set but empty counts as unset (a CI template passes
empty inputs through), but a flag given with an empty value is a mistake: ``--stack-profile=``
must not quietly mean "every profile". Every complaint names where the value came from, so a
bad ``LLAMA_STACK_REQUEST_TIMEOUT`` is not reported as a flag the user never typed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Option:
    flag: str
    envs: tuple[str, ...]
    help: str
    default: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS = [
    Option("--stack-url", ("LLAMA_STACK_URL", "OGX_URL"), "base URL of a running deployment to certify (black box)"),
    Option("--stack-token", ("LLAMA_STACK_TOKEN",), "bearer token of the first principal"),
    Option("--stack-token-alt", ("LLAMA_STACK_TOKEN_ALT",), "bearer token of a second principal, for access checks"),
    Option(
        "--stack-launcher",
        ("LLAMA_STACK_LAUNCHER",),
        "'reference' (the default without --stack-url) or a command template with {config} and {port}, "
        "used to start scenarios",
    ),
    Option(
        "--stack-generation",
        ("LLAMA_STACK_GENERATION",),
        "override generation detection: 'reference' or a version such as 0.2.12, 0.7.3, ogx-1.5",
    ),
    Option("--stack-profile", ("LLAMA_STACK_PROFILE",), "comma list of profiles to run (default: all)"),
    Option("--stack-requirement", ("LLAMA_STACK_REQUIREMENT",), "comma list of requirement ids to run"),
    Option(
        "--provider-id",
        ("LLAMA_STACK_PROVIDER_ID",),
        "aim registration and inference checks at the models of this provider",
    ),
    Option(
        "--expected-failures",
        ("LLAMA_STACK_EXPECTED_FAILURES",),
        "YAML baseline of known failures ([{id, reason}]); listed failures do not fail the run, new ones and "
        "listed items that now pass (stale) do",
    ),
    Option(
        "--stack-quota-budget",
        ("LLAMA_STACK_QUOTA_BUDGET",),
        "opt in to the disruptive quota checks against --stack-url: the daily request budget of the suite's "
        "credentials there, which the checks will spend",
    ),
    Option(
        "--stack-ca-file",
        ("LLAMA_STACK_CA_FILE",),
        "PEM file of the CA that signed an https deployment's certificate (default: the system's trusted CAs); "
        "the certificate is always verified",
    ),
    Option(
        "--stack-config",
        ("LLAMA_STACK_RUN_CONFIG",),
        "the run.yaml the deployment at --stack-url was started with, linted for its generation (read here, "
        "never sent anywhere; variables from this environment)",
    ),
    Option(
        "--stack-env",
        ("LLAMA_STACK_RUN_ENV",),
        "an env file (KEY=VALUE lines) with the environment the deployment was started with, read in place of "
        "this one for --stack-config",
    ),
    Option(
        "--stack-jwks-url",
        ("LLAMA_STACK_JWKS_URL",),
        "the JWKS URL of the issuer of --stack-token, to also forge HS256 tokens keyed with its published key",
    ),
    Option("--request-timeout", ("LLAMA_STACK_REQUEST_TIMEOUT",), "seconds allowed for each request", "10"),
    Option(
        "--stack-launch-timeout",
        ("LLAMA_STACK_LAUNCH_TIMEOUT",),
        "seconds allowed for a launched server to become ready",
        "30",
    ),
    Option(
        "--stack-fixtures",
        ("LLAMA_STACK_FIXTURES",),
        "folder holding scenarios/ and releases.yaml (default: the repo's fixtures/, or the installed copy)",
    ),
    Option(
        "--conformance-report", ("LLAMA_STACK_CONFORMANCE_REPORT",), "folder to write results.json and report.html into"
    ),
]


def register(parser: pytest.Parser) -> None:
    group = parser.getgroup("llama-stack", "Llama Stack conformance")
    for option in OPTIONS:
        envs = " or ".join(f"${name}" for name in option.envs)
        default = f"; default {option.default}" if option.default else ""
        group.addoption(
            option.flag, dest=option.dest, default=None, help=f"{option.help} (env {envs}; ini {option.dest}{default})"
        )
        parser.addini(option.dest, help=option.help, default=None)


def _option(dest: str) -> Option:
    return next(o for o in OPTIONS if o.dest == dest)


def given_by_flag(config: pytest.Config) -> bool:
    """Whether any of the suite's flags is on the command line (or an ini key set)."""
    return any(config.getoption(o.dest) is not None or config.getini(o.dest) not in (None, "", []) for o in OPTIONS)


def resolve_with_source(config: pytest.Config, dest: str) -> tuple[str | None, str]:
    """The option's value and where it came from: ``--flag``, ``$VARIABLE``, ``ini key`` or ``default``."""
    option = _option(dest)
    value = config.getoption(dest)
    if value is not None:
        if not str(value).strip():
            raise pytest.UsageError(f"{option.flag}: given with an empty value; leave the flag out for the default")
        return str(value), option.flag
    for name in option.envs:
        if os.environ.get(name, "").strip():
            return os.environ[name], f"${name}"
    ini = config.getini(dest)
    if ini not in (None, "", []):
        return str(ini), f"ini {dest}"
    return option.default, "default"


def resolve(config: pytest.Config, dest: str) -> str | None:
    return resolve_with_source(config, dest)[0]


def positive_number(config: pytest.Config, dest: str) -> float:
    text, source = resolve_with_source(config, dest)
    try:
        value = float(text or "")
    except ValueError:
        raise pytest.UsageError(f"{source}: expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise pytest.UsageError(f"{source}: must be a positive number of seconds, got {text!r}")
    return value


def comma_list(config: pytest.Config, dest: str) -> list[str]:
    text, source = resolve_with_source(config, dest)
    if text is None:
        return []
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise pytest.UsageError(f"{source}: {text!r} has an empty item; give a comma list of names")
    return parts
