"""Renders verdicts: the terminal table, ``results.json`` and a self-contained ``report.html``."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.catalog import Requirement
from conformance.gate import GateResult
from conformance.outcomes import FAIL, INCONCLUSIVE, NOT_EVALUATED, OUT_OF_WINDOW, PASS, SEVERITY, SKIP
from conformance.results import RequirementVerdict

CONFORMANT = "conformant"
PARTIAL = "partially conformant"
NOT_CONFORMANT = "not conformant"


def profile_claims(verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement]) -> dict[str, str]:
    """A profile is conformant only with zero fail and zero skip inside it: every requirement in
    the generation's window passed, SHOULDs included. A failing MUST makes it not conformant;
    anything between (a SHOULD failing, checks that could not run) is partial.

    A run that selected only some of a profile's requirements makes no claim about the profile:
    "conformant" must never stand for "the few we looked at passed".
    """
    claims: dict[str, str] = {}
    for profile in dict.fromkeys(v.requirement.profile for v in verdicts):
        run = [v for v in verdicts if v.requirement.profile == profile]
        total = sum(1 for r in catalog.values() if r.profile == profile)
        if len(run) < total:
            claims[profile] = f"no claim ({len(run)} of its {total} requirements run)"
            continue
        members = [v for v in run if v.verdict != OUT_OF_WINDOW]
        musts = [v for v in members if v.requirement.level == "MUST"] or members
        if not members:
            claims[profile] = "out of window"
        elif all(v.verdict == PASS for v in members):
            claims[profile] = CONFORMANT
        elif any(v.verdict == FAIL for v in musts):
            claims[profile] = NOT_CONFORMANT
        elif not any(v.verdict == PASS for v in musts) and not any(v.verdict == FAIL for v in members):
            claims[profile] = "not evaluated"
        else:
            claims[profile] = PARTIAL
    return claims


def overall_claim(claims: Mapping[str, str]) -> str:
    """One line for the whole run, over the profiles that have a claim of their own."""
    judged = {p: c for p, c in claims.items() if c in (CONFORMANT, PARTIAL, NOT_CONFORMANT)}
    good = [p for p, c in judged.items() if c == CONFORMANT]
    others = [f"{p} ({c})" for p, c in judged.items() if c != CONFORMANT]
    if not judged:
        return "no claim: no profile was run whole and evaluated"
    if not others:
        return f"{CONFORMANT} for profiles {', '.join(good)}"
    if not good and all(c == NOT_CONFORMANT for c in judged.values()):
        return f"{NOT_CONFORMANT}: {', '.join(others)}"
    if not good:
        return f"{PARTIAL}: conformant for no profile; {', '.join(others)}"
    return f"{PARTIAL}: conformant for profiles {', '.join(good)}; not for {', '.join(others)}"


def counts(verdicts: list[RequirementVerdict]) -> dict[str, int]:
    tally = Counter(v.verdict for v in verdicts)
    return {verdict: tally.get(verdict, 0) for verdict in SEVERITY}


def _shown_verdict(verdict: RequirementVerdict, gate: GateResult | None) -> str:
    if gate is not None and verdict.requirement.id in gate.expected_requirements:
        return f"{verdict.verdict} (expected)"
    return verdict.verdict


def terminal_lines(
    verdicts: list[RequirementVerdict], catalog: Mapping[str, Requirement], gate: GateResult | None = None
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
    lines.append(f"summary: {overall_claim(claims)}")
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
        "baseline": gate.as_dict() if gate is not None else None,
        "requirements": [
            {
                "id": v.requirement.id,
                "level": v.requirement.level,
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
                        "duration_s": round(c.duration, 3),
                    }
                    for c in v.checks
                ],
            }
            for v in verdicts
        ],
    }


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;
vertical-align:top}th{background:#f4f4f6}.v{font-weight:600}.pass{color:#16794a}.fail{color:#b3261e}
.skip,.not-evaluated,.inconclusive{color:#8a6100}.out-of-window{color:#777}
pre{background:#f6f6f8;padding:.6em;overflow-x:auto;white-space:pre-wrap}code{font-size:12px}
"""


def html_document(doc: dict[str, Any]) -> str:
    esc = html.escape
    target = doc.get("target", {})
    rows = []
    details = []
    for req in doc["requirements"]:
        rows.append(
            f"<tr><td><a href='#{esc(req['id'])}'>{esc(req['id'])}</a></td><td>{esc(req['level'])}</td>"
            f"<td>{esc(req['profile'])}</td><td class='v {esc(req['verdict'])}'>{esc(req['verdict'])}</td>"
            f"<td>{esc(req['text'])}</td></tr>"
        )
        if req["verdict"] in (PASS, OUT_OF_WINDOW):
            continue
        checks = []
        for check in req["checks"]:
            curl = "".join(f"<pre><code>{esc(line)}</code></pre>" for line in check["curl"])
            checks.append(
                f"<li><code>{esc(check['id'])}</code>: <span class='{esc(check['outcome'])}'>"
                f"{esc(check['outcome'])}</span> {esc(check['message'])}{curl}</li>"
            )
        details.append(
            f"<h3 id='{esc(req['id'])}'>{esc(req['id'])} — {esc(req['verdict'])}</h3>"
            f"<p>{esc(req['text'])}<br><small>source: {esc(req['source'])}</small></p>"
            f"<ul>{''.join(checks)}</ul>"
        )
    summary = ", ".join(f"{n} {verdict}" for verdict, n in doc["summary"].items() if n)
    profiles = "".join(f"<li>{esc(p)}: {esc(c)}</li>" for p, c in doc["profiles"].items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Llama Stack conformance report</title>"
        f"<style>{_CSS}</style></head><body><h1>Llama Stack conformance report</h1>"
        f"<p>target: <code>{esc(str(target.get('url')))}</code> · generation: {esc(str(target.get('generation')))}"
        f" · launcher: {esc(str(target.get('launcher')))} · suite {esc(str(doc.get('suite_version')))}"
        f" · {esc(str(doc.get('finished')))}</p><p>{esc(summary)}</p><p><b>{esc(str(doc.get('claim')))}</b></p>"
        f"<ul>{profiles}</ul>"
        "<table><tr><th>id</th><th>level</th><th>profile</th><th>verdict</th><th>requirement</th></tr>"
        f"{''.join(rows)}</table><h2>Findings</h2>{''.join(details) or '<p>None.</p>'}</body></html>"
    )


def write_reports(folder: Path, doc: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    results.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    page = folder / "report.html"
    page.write_text(html_document(doc), encoding="utf-8")
    return [results, page]
