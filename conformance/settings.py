"""The run's settings, read once from the options, and whether the suite was asked to run at all.

Installing the package puts the plugin into every pytest run of that environment; it must stay
inert in the user's unrelated test runs and wake up only when asked: a ``--stack-*`` flag or ini
key, or a run whose paths are the suite's own checks (the console script, ``--pyargs
conformance.checks``, this repository's ``testpaths``). Environment twins alone do not wake it:
client applications commonly export ``LLAMA_STACK_URL``, and their own tests must not turn into
a conformance run.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.catalog import extensions, full_catalog
from conformance.gate import BaselineError, Expected, load_baseline
from conformance.generation import Generation, parse_override
from conformance.launchers.base import Launcher
from conformance.launchers.choose import launcher_from_option
from conformance.launchers.process import LaunchError
from conformance.ledger import Ledger
from conformance.options import comma_list, given_by_flag, positive_number, resolve, resolve_with_source
from conformance.scenarios import DEFAULT_FIXTURES
from conformance.secrets import SECRETS
from conformance.target import check_url

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
# Reports go here (relative to where pytest was started) unless --conformance-report says otherwise.
DEFAULT_REPORT_DIR = "conformance-report"


@dataclass
class Settings:
    url: str | None
    tokens: dict[str, str | None] = field(repr=False)
    launcher: Launcher | None
    launcher_label: str
    generation_override: Generation | None
    profiles: list[str]
    requirements: list[str]
    provider_id: str | None
    quota_budget: int | None
    request_timeout: float
    # The CA an https target's certificate is verified against (None: the system's trusted CAs).
    ca_file: str | None
    # The issuer's JWKS, for the forgery that needs its public key (--stack-jwks-url).
    jwks_url: str | None
    launch_timeout: float
    fixtures: Path
    report_dir: Path
    # The deployment's own run.yaml, parsed (--stack-config); its values never leave this process.
    run_config: dict[str, Any] | None = field(default=None, repr=False)
    # The environment the deployment was started with (--stack-env), for reading its run.yaml.
    run_env: dict[str, str] | None = field(default=None, repr=False)
    baseline: list[Expected] | None = None
    # What the suite spends of a URL target's quota, across workers (with --stack-quota-budget).
    ledger: Ledger | None = field(default=None, repr=False)
    launcher_unavailable: str | None = None
    detected: Generation | None = None
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _suite_folders() -> list[Path]:
    return [CHECKS_DIR, *(e.folder.resolve() for e in extensions())]


def names_suite_checks(config: pytest.Config, arg: str) -> bool:
    """Whether a collection argument (a path, a node id or, with --pyargs, a module) is one of the
    suite's checks or an installed extension's."""
    head = arg.split("::", maxsplit=1)[0]
    is_module = config.option.pyargs and not head.endswith(".py") and "/" not in head
    if is_module and (head == "conformance" or head.startswith("conformance.checks")):
        return True
    path = Path(head)
    path = (path if path.is_absolute() else config.invocation_params.dir / path).resolve()
    return any(_inside(path, folder) for folder in _suite_folders())


def asked(config: pytest.Config) -> bool:
    """The plugin acts only when asked (see the module's docstring)."""
    if given_by_flag(config):
        return True
    return any(names_suite_checks(config, arg) for arg in config.args)


def aim_collection(config: pytest.Config) -> None:
    """``pytest --stack-url=URL`` always runs the checks: with no paths given they replace the
    current folder, and beside a project's ``testpaths`` they are added to them."""
    source = config.args_source
    if source == pytest.Config.ArgsSource.INVOCATION_DIR:
        config.args[:] = [str(CHECKS_DIR)]
    elif source == pytest.Config.ArgsSource.TESTPATHS and not any(names_suite_checks(config, a) for a in config.args):
        config.args.append(str(CHECKS_DIR))
    # A run of the suite's checks runs the installed extensions' checks with them.
    if any(names_suite_checks(config, arg) for arg in config.args):
        config.args += [str(e.folder) for e in extensions() if str(e.folder) not in config.args]


def _scenario_secrets(fixtures: Path) -> None:
    """Secrets that scenarios hand their servers (``*_TOKEN``, ``*_SECRET``, ...), known from the
    start so that the controller and every worker mask them alike. A scenario file that does not
    parse is named later, by the check that needs it."""
    for meta in sorted((fixtures / "scenarios").glob("*/scenario.yaml")):
        try:
            env = (yaml.safe_load(meta.read_text(encoding="utf-8")) or {}).get("env") or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
            continue
        if isinstance(env, dict):
            SECRETS.add_environment({str(k): str(v) for k, v in env.items() if v is not None})


def settings_from(config: pytest.Config) -> Settings:
    try:
        catalog = full_catalog()
    except ValueError as exc:
        raise pytest.UsageError(f"conformance catalog: {exc}") from None
    tokens = {"primary": resolve(config, "stack_token"), "alt": resolve(config, "stack_token_alt")}
    for token in tokens.values():
        SECRETS.add(token)
    url = resolve(config, "stack_url")
    if url:
        try:
            url = check_url(url)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        SECRETS.add_url_credentials(url)
    override_text, override_source = resolve_with_source(config, "stack_generation")
    try:
        override = parse_override(override_text, override_source) if override_text else None
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    fixtures = Path(resolve(config, "stack_fixtures") or DEFAULT_FIXTURES)
    if not (fixtures / "scenarios").is_dir():
        # otherwise every launched check would be not-evaluated, and the run would look merely thin
        raise pytest.UsageError(f"--stack-fixtures {fixtures}: no scenarios/ folder there")
    _scenario_secrets(fixtures)
    launcher_text = resolve(config, "stack_launcher")
    launcher: Launcher | None = None
    if launcher_text or not url:
        try:
            launcher = launcher_from_option(launcher_text, override, fixtures)
        except LaunchError as exc:
            raise pytest.UsageError(str(exc)) from None
    profiles = comma_list(config, "stack_profile")
    known_profiles = {r.profile for r in catalog.values()}
    if unknown := [p for p in profiles if p not in known_profiles]:
        raise pytest.UsageError(f"--stack-profile: unknown {unknown}; known: {sorted(known_profiles)}")
    requirements = comma_list(config, "stack_requirement")
    if unknown := [r for r in requirements if r not in catalog]:
        raise pytest.UsageError(f"--stack-requirement: unknown ids {unknown}")
    report, report_source = resolve_with_source(config, "conformance_report")
    report_dir = config.invocation_params.dir / (report or DEFAULT_REPORT_DIR)
    try:  # now, not after the checks ran: a run must not end without its reports
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = "--conformance-report" if report_source == "default" else report_source
        raise pytest.UsageError(f"{where} {report_dir}: cannot create it: {exc.strerror or exc}") from None
    baseline_path = resolve(config, "expected_failures")
    try:
        baseline = load_baseline(Path(baseline_path), set(catalog)) if baseline_path else None
    except BaselineError as exc:
        raise pytest.UsageError(str(exc)) from None
    quota_budget = _budget(*resolve_with_source(config, "stack_quota_budget"))
    return Settings(
        url=url,
        tokens=tokens,
        launcher=launcher,
        launcher_label=("none" if launcher is None else launcher.name),
        generation_override=override,
        profiles=profiles,
        requirements=requirements,
        provider_id=resolve(config, "provider_id"),
        quota_budget=quota_budget,
        request_timeout=positive_number(config, "request_timeout"),
        ca_file=_ca_file(*resolve_with_source(config, "stack_ca_file")),
        jwks_url=_jwks_url(*resolve_with_source(config, "stack_jwks_url")),
        run_config=_run_config(*resolve_with_source(config, "stack_config")),
        run_env=_run_env(*resolve_with_source(config, "stack_env")),
        launch_timeout=positive_number(config, "stack_launch_timeout"),
        fixtures=fixtures,
        report_dir=report_dir,
        baseline=baseline,
        ledger=Ledger(report_dir / ".ledger") if url and quota_budget else None,
    )


def _budget(text: str | None, source: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1 or int(text) > 100_000:
        raise pytest.UsageError(f"{source}: expected a number of requests from 1 to 100000, got {text!r}")
    return int(text)


__all__ = [
    "CHECKS_DIR",
    "DEFAULT_REPORT_DIR",
    "Settings",
    "aim_collection",
    "asked",
    "names_suite_checks",
    "settings_from",
]


def _ca_file(value: str | None, source: str) -> str | None:
    """A readable PEM bundle, checked now: a typo must not surface as "certificate verify failed"."""
    if not value:
        return None
    where = "--stack-ca-file" if source == "default" else source
    try:
        ssl.create_default_context(cafile=value)
    except FileNotFoundError:
        raise pytest.UsageError(f"{where} {value}: no such file") from None
    except (OSError, ssl.SSLError) as exc:
        raise pytest.UsageError(f"{where} {value}: not a PEM file of CA certificates ({exc})") from None
    return value


def _jwks_url(value: str | None, source: str) -> str | None:
    if not value:
        return None
    where = "--stack-jwks-url" if source == "default" else source
    if not value.startswith(("http://", "https://")):
        raise pytest.UsageError(f"{where}: expected an http:// or https:// URL")
    SECRETS.add_url_credentials(value)  # an issuer behind user:password@ is masked like the stack's
    return value


def _run_config(value: str | None, source: str) -> dict[str, Any] | None:
    """The operator's run.yaml as a mapping; unreadable or not YAML is a usage error, now."""
    if not value:
        return None
    where = "--stack-config" if source == "default" else source
    try:
        loaded = yaml.safe_load(Path(value).read_text(encoding="utf-8"))
    except OSError as exc:
        raise pytest.UsageError(f"{where} {value}: cannot read it: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise pytest.UsageError(f"{where} {value}: not a YAML file: {str(exc).splitlines()[0]}") from None
    if not isinstance(loaded, dict):
        raise pytest.UsageError(f"{where} {value}: expected a run.yaml mapping, got {type(loaded).__name__}")
    return loaded


def _run_env(value: str | None, source: str) -> dict[str, str] | None:
    """An env file's variables; a line that is not ``KEY=VALUE`` is a usage error naming its number.
    Its secrets (by name, as for scenarios) are masked from then on."""
    if not value:
        return None
    where = "--stack-env" if source == "default" else source
    try:
        lines = Path(value).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise pytest.UsageError(f"{where} {value}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    env: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, raw = text.removeprefix("export ").partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise pytest.UsageError(f"{where} {value}: line {number} is not KEY=VALUE")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1]
        env[name] = raw
    SECRETS.add_environment(env)
    return env
