"""Renders verdicts: the terminal table, ``results.json`` and a self-contained ``report.html``."""

from __future__ import annotations

import functools
import html
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conformance.catalog import HARDENING, Requirement
from conformance.gate import GateResult
from conformance.outcomes import FAIL, INCONCLUSIVE, NOT_EVALUATED, OUT_OF_WINDOW, PASS, PRECEDENCE, SKIP
from conformance.results import RequirementVerdict

CONFORMANT = "conformant"
PARTIAL = "partially conformant"
NOT_CONFORMANT = "not conformant"
# Everything that was evaluated passed, and the rest could not be evaluated in this run (a URL
# run without a launcher, say): not a failure, and not a certificate for the whole profile.
PASSED_WHERE_EVALUATED = "passed where evaluated"
NOT_EVALUATED_CLAIM = "not evaluated"
# How to evaluate the launched checks against the user's own implementation.
LAUNCHER_HINT = "add --stack-launcher='YOUR-START-COMMAND {config} --port {port}'"


def profile_claims(verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement]) -> dict[str, str]:
    """A profile is conformant only with zero fail and zero skip inside it: every requirement in
    the generation's window passed, SHOULDs included. A failing MUST makes it not conformant; a
    failing SHOULD, a skip or an inconclusive check makes it partially conformant. When all that
    ran passed and the rest was not evaluated, it passed where evaluated.

    A run that selected only some of a profile's requirements makes no claim about the profile:
    "conformant" must never stand for "the few we looked at passed".

    Hardening requirements (promised by nobody) take no part: they are reported beside the
    claims by `hardening_failures`, so a target is never "not conformant" for a broken non-promise.
    """
    claims: dict[str, str] = {}
    for profile in dict.fromkeys(v.requirement.profile for v in verdicts):
        run = [v for v in verdicts if v.requirement.profile == profile]
        total = sum(1 for r in catalog.values() if r.profile == profile)
        if len(run) < total:
            claims[profile] = f"no claim ({len(run)} of its {total} requirements run)"
            continue
        members = [v for v in run if v.verdict != OUT_OF_WINDOW and v.requirement.basis != HARDENING]
        kinds = {v.verdict for v in members}
        if not members:
            claims[profile] = "out of window"
        elif any(v.verdict == FAIL and v.requirement.level == "MUST" for v in members):
            claims[profile] = NOT_CONFORMANT
        elif kinds & {FAIL, SKIP, INCONCLUSIVE}:
            claims[profile] = PARTIAL
        elif kinds == {PASS}:
            claims[profile] = CONFORMANT
        elif PASS in kinds:
            claims[profile] = PASSED_WHERE_EVALUATED
        else:
            claims[profile] = NOT_EVALUATED_CLAIM
    return claims


def hardening_failures(verdicts: list[RequirementVerdict]) -> list[str]:
    return [v.requirement.id for v in verdicts if v.requirement.basis == HARDENING and v.verdict == FAIL]


def hardening_line(failed: list[str]) -> str:
    return f"hardening (recommended, promised by nobody, not part of the claims): failed {', '.join(failed)}"


def overall_claim(claims: Mapping[str, str]) -> str:
    """One plain line for the whole run: what was certified, what failed, what was not evaluated."""

    def having(claim: str) -> list[str]:
        return [p for p, c in claims.items() if c == claim]

    failed, partial, good = having(NOT_CONFORMANT), having(PARTIAL), having(CONFORMANT)
    incomplete, unevaluated = having(PASSED_WHERE_EVALUATED), having(NOT_EVALUATED_CLAIM)
    if not (failed or partial or good or incomplete):
        return "no claim: no profile was run whole and evaluated"
    parts = []
    if failed:
        parts.append(f"a MUST failed in {', '.join(failed)}")
    if partial:
        parts.append(f"a SHOULD failed, or checks skipped, in {', '.join(partial)}")
    if good:
        parts.append(f"{CONFORMANT} for profiles {', '.join(good)}")
    if incomplete:
        parts.append(f"passed where evaluated in {', '.join(incomplete)}")
    if unevaluated:
        parts.append(f"not evaluated: {', '.join(unevaluated)}")
    if failed:
        return f"{NOT_CONFORMANT}: " + "; ".join(parts)
    if partial:
        return f"{PARTIAL}: " + "; ".join(parts)
    return "; ".join(parts)


def not_evaluated_lines(verdicts: list[RequirementVerdict], url_mode: bool) -> list[str]:
    """Why requirements were not evaluated, grouped by reason, with how to evaluate them."""
    reasons = Counter(v.reason or "no reason given" for v in verdicts if v.verdict == NOT_EVALUATED)
    lines = [f"not evaluated: {n} requirement(s): {reason}" for reason, n in reasons.most_common()]
    if url_mode and any("launcher" in reason for reason in reasons):
        lines.append(
            "  these start the server on prepared configs; to evaluate them against your implementation, "
            f"{LAUNCHER_HINT} (or a release name from fixtures/releases.yaml: llama-stack-0.2, llama-stack-0.7, ogx-1)"
        )
    return lines


def counts(verdicts: list[RequirementVerdict]) -> dict[str, int]:
    tally = Counter(v.verdict for v in verdicts)
    return {verdict: tally.get(verdict, 0) for verdict in PRECEDENCE}


def _shown_verdict(verdict: RequirementVerdict, gate: GateResult | None) -> str:
    if gate is not None and verdict.requirement.id in gate.expected_requirements:
        return f"{verdict.verdict} (expected)"
    return verdict.verdict


def terminal_lines(
    verdicts: list[RequirementVerdict],
    catalog: Mapping[str, Requirement],
    gate: GateResult | None = None,
    url: str | None = None,
) -> list[str]:
    width = max([len("requirement"), *(len(v.requirement.id) for v in verdicts)])
    lines = [f"{'requirement'.ljust(width)}  level   verdict          checks  note"]
    for v in verdicts:
        note = v.reason if v.verdict in (FAIL, INCONCLUSIVE, NOT_EVALUATED, SKIP) else ""
        lines.append(
            f"{v.requirement.id.ljust(width)}  {v.requirement.level.ljust(6)}  {_shown_verdict(v, gate).ljust(15)}  "
            f"{len(v.checks):>6}  {note[:110]}"
        )
    tally = counts(verdicts)
    lines.append("")
    lines.append("verdicts: " + ", ".join(f"{n} {verdict}" for verdict, n in tally.items() if n))
    claims = profile_claims(verdicts, catalog)
    for profile, claim in claims.items():
        lines.append(f"profile {profile}: {claim}")
    lines += not_evaluated_lines(verdicts, url is not None)
    lines.append(f"summary: {overall_claim(claims)}")
    if hardened := hardening_failures(verdicts):
        lines.append(hardening_line(hardened))
    if gate is not None:
        lines += gate.lines()
    return lines


def results_document(
    meta: dict[str, Any],
    verdicts: list[RequirementVerdict],
    catalog: Mapping[str, Requirement],
    gate: GateResult | None = None,
) -> dict[str, Any]:
    claims = profile_claims(verdicts, catalog)
    return {
        **meta,
        "summary": counts(verdicts),
        "profiles": claims,
        "claim": overall_claim(claims),
        "hardening_failures": hardening_failures(verdicts),
        "baseline": gate.as_dict() if gate is not None else None,
        "requirements": [
            {
                "id": v.requirement.id,
                "level": v.requirement.level,
                "basis": v.requirement.basis,
                "profile": v.requirement.profile,
                "since": v.requirement.since,
                "until": v.requirement.until,
                "source": v.requirement.source,
                "text": v.requirement.text,
                "verdict": v.verdict,
                # The baseline's reason when this failure is an expected one, else null.
                "expected_failure": gate.expected_requirements.get(v.requirement.id) if gate else None,
                "reason": v.reason,
                "checks": [
                    {
                        "id": c.nodeid,
                        "outcome": c.outcome,
                        "message": c.message,
                        "curl": c.curl,
                        "server_logs": c.server_logs,
                        "duration_s": round(c.duration, 3),
                    }
                    for c in v.checks
                ],
            }
            for v in verdicts
        ],
    }


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:72em;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f6}td:first-child{white-space:nowrap}.v{font-weight:600;white-space:nowrap}.pass{color:#16794a}
.fail,.inconclusive{color:#b3261e}.skip,.not-evaluated{color:#8a6100}.out-of-window{color:#777}
section.finding{border-left:4px solid #b3261e;padding:.2em 1em;margin:1em 0}
pre{background:#f6f6f8;padding:.6em;overflow-x:auto;white-space:pre-wrap}code{font-size:12px}
"""
_URL = re.compile(r"https?://[^\s<>\"')]+")


@functools.cache
def _markdown() -> Any:
    # Imported on first use: only the run's controller renders the report, and every pytest
    # process (each xdist worker too) would otherwise load the parser at start-up.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def _md(text: str) -> str:
    """Requirement texts are written in Markdown (code spans, emphasis); raw HTML stays text."""
    return str(_markdown().renderInline(text))


def _source(text: str) -> str:
    escaped = html.escape(text)
    return _URL.sub(lambda m: f"<a href='{m.group(0)}'>{m.group(0)}</a>", escaped)


def _by_profile(requirements: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for req in requirements:
        groups.setdefault(req["profile"], []).append(req)
    return groups


def _finding(req: dict[str, Any], rerun: str) -> str:
    esc = html.escape
    checks = []
    for check in req["checks"]:
        if check["outcome"] not in (FAIL, INCONCLUSIVE):
            continue
        curl = "".join(f"<pre><code>{esc(line)}</code></pre>" for line in check["curl"])
        logs = " ".join(f"<a href='{esc(link)}'>{esc(link)}</a>" for link in check.get("server_logs") or [])
        curl += f"<p>server output: {logs}</p>" if logs else ""
        command = f"pytest {rerun} '{check['id']}'".replace("  ", " ")
        checks.append(
            f"<li><span class='v {esc(check['outcome'])}'>{esc(check['outcome'])}</span> "
            f"<code>{esc(check['id'])}</code><pre>{esc(check['message'])}</pre>"
            f"<p>rerun this check: <code>{esc(command)}</code></p>{curl}</li>"
        )
    expected = f"<p>expected failure: {esc(req['expected_failure'])}</p>" if req.get("expected_failure") else ""
    return (
        f"<section class='finding' id='{esc(req['id'])}'><h4>{esc(req['id'])} · {esc(req['level'])} · "
        f"{esc(req.get('basis', ''))} · "
        f"<span class='v {esc(req['verdict'])}'>{esc(req['verdict'])}</span></h4><p>{_md(req['text'])}</p>"
        f"<p><small>source: {_source(req['source'])}</small></p>{expected}<ul>{''.join(checks)}</ul></section>"
    )


def _table(requirements: list[dict[str, Any]], with_reason: bool) -> str:
    esc = html.escape
    head = "<tr><th>id</th><th>level</th><th>verdict</th><th>requirement</th>"
    head += "<th>why</th></tr>" if with_reason else "</tr>"
    rows = []
    for req in requirements:
        why = f"<td>{esc(req['reason'])}</td>" if with_reason else ""
        rows.append(
            f"<tr><td><a href='#{esc(req['id'])}'>{esc(req['id'])}</a></td><td>{esc(req['level'])}</td>"
            f"<td class='v {esc(req['verdict'])}'>{esc(req['verdict'])}</td><td>{_md(req['text'])}</td>{why}</tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def html_document(doc: dict[str, Any]) -> str:
    """A page a deployer reads top-down: the claim, then what failed (grouped by profile, each with
    its rerun command and curl lines), then what was not evaluated and why, then everything.
    No scripts: it must read the same where a CI artifact viewer blocks them."""
    esc = html.escape
    target = doc.get("target", {})
    rerun = str(doc.get("rerun_options", ""))
    requirements = doc["requirements"]
    failures = [r for r in requirements if r["verdict"] in (FAIL, INCONCLUSIVE)]
    unevaluated = [r for r in requirements if r["verdict"] in (NOT_EVALUATED, SKIP)]
    findings = "".join(
        f"<h3>{esc(profile)}</h3>" + "".join(_finding(r, rerun) for r in reqs)
        for profile, reqs in _by_profile(failures).items()
    )
    waiting = "".join(
        f"<h3>{esc(profile)}</h3>{_table(reqs, with_reason=True)}" for profile, reqs in _by_profile(unevaluated).items()
    )
    everything = "".join(
        f"<h3>{esc(profile)}</h3>{_table(reqs, with_reason=False)}"
        for profile, reqs in _by_profile(requirements).items()
    )
    summary = ", ".join(f"{n} {verdict}" for verdict, n in doc["summary"].items() if n)
    profiles = "".join(f"<li>{esc(p)}: {esc(c)}</li>" for p, c in doc["profiles"].items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Llama Stack conformance report</title>"
        f"<style>{_CSS}</style></head><body><h1>Llama Stack conformance report</h1>"
        f"<p>target: <code>{esc(str(target.get('url') or 'launched per scenario'))}</code>"
        f" · generation: {esc(str(target.get('generation')))}"
        f" · launcher: {esc(str(target.get('launcher')))} · suite {esc(str(doc.get('suite_version')))}"
        f" · {esc(str(doc.get('finished')))}</p><p><b>{esc(str(doc.get('claim')))}</b></p><p>{esc(summary)}</p>"
        f"<ul>{profiles}</ul>{_hardening(doc.get('hardening_failures') or [])}{_packages(target.get('packages') or {})}"
        f"<h2>Failures</h2>{findings or '<p>None.</p>'}"
        f"<h2>Not evaluated or skipped</h2>{waiting or '<p>None.</p>'}"
        f"<h2>All requirements</h2>{everything}</body></html>"
    )


def _hardening(failed: list[str]) -> str:
    return f"<p>{html.escape(hardening_line(failed))}</p>" if failed else ""


def _packages(packages: dict[str, str]) -> str:
    """The release environment's resolved versions, folded: verdicts can depend on them."""
    if not packages:
        return ""
    listed = ", ".join(f"{name}=={version}" for name, version in sorted(packages.items(), key=lambda p: p[0].lower()))
    return f"<details><summary>launcher packages ({len(packages)})</summary><p>{html.escape(listed)}</p></details>"


def write_reports(folder: Path, doc: dict[str, Any], scrub: Callable[[str], str] = str) -> list[Path]:
    """Write results.json and report.html; ``scrub`` is the last gate secrets cannot pass."""
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    results.write_text(scrub(json.dumps(doc, indent=2)) + "\n", encoding="utf-8")
    page = folder / "report.html"
    page.write_text(scrub(html_document(doc)), encoding="utf-8")
    return [results, page]
