"""A Review as text (terminal), markdown (a PR comment with a size cap) or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import click

from compiler.review.impact import SECTIONS, Impact, money
from compiler.review.objects import ObjectChange
from compiler.review.run import Review
from compiler.secrets_scan import redact

MARKER = "<!-- platformc-diff -->"
DEFAULT_MAX_BYTES = 60_000  # GitHub rejects comments over 65,536 characters
SYMBOL = {"added": "+", "removed": "-", "changed": "~"}
_COLOR = {"added": "green", "removed": "red", "changed": "yellow"}


def base_label(review: Review) -> str:
    short = review.base_sha[:12]
    return short if review.base in (review.base_sha, short) else f"{review.base} ({short})"


def summary(review: Review) -> str:
    objects = review.objects
    if not objects.objects and not objects.support_files:
        return "no generated object changes"
    return (
        f"{len(objects.objects)} object(s) on {len(objects.clusters)} cluster(s): "
        f"{objects.count('added')} added, {objects.count('removed')} removed, "
        f"{objects.count('changed')} changed"
    )


def _cost_lines(impact: Impact) -> Iterator[str]:
    for team, cost in impact.team_costs.items():
        yield f"{team}: {money(cost.before)} → {money(cost.after)} ({money(cost.delta, signed=True)})"
    total = impact.total_cost
    if impact.team_costs:
        yield f"total: {money(total.before)} → {money(total.after)} ({money(total.delta, signed=True)})"


# --- text -------------------------------------------------------------------------------------


def render_text(review: Review, color: bool = False) -> str:
    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    out = [style(f"platformc diff: {base_label(review)} → working tree", bold=True), summary(review)]
    if not review.spec_at_base:
        out.append("(the spec did not exist at the base revision: everything is new)")
    if review.impact.items or review.impact.team_costs:
        out.append("")
        out.append(style("Impact", bold=True))
        for section in SECTIONS:
            items = review.impact.section(section)
            if not items:
                continue
            out.append(f"  {section}")
            for item in items:
                mark = style("!", fg="red", bold=True) if item.severity == "warning" else "-"
                out.append(f"    {mark} {item.text}")
        costs = list(_cost_lines(review.impact))
        if costs:
            out.append("  Monthly GPU cost")
            out.extend(f"    {line}" for line in costs)
    for cluster, units in review.objects.by_cluster().items():
        out.append("")
        out.append(style(f"{cluster}", bold=True))
        for unit, objects in units.items():
            out.append(f"  {unit}")
            for obj in objects:
                out.append(
                    style(f"    {SYMBOL[obj.change]} {obj.label}", fg=_COLOR[obj.change]) + f"  {obj.path}"
                )
                if obj.diff:
                    out.extend(f"      {_diff_line(line, style)}" for line in obj.diff.splitlines())
    if review.objects.support_files:
        out.append("")
        out.append(
            f"({len(review.objects.support_files)} kustomization/cluster-info file(s) changed as well)"
        )
    return redact("\n".join(out) + "\n")


def _diff_line(line: str, style: Callable[..., str]) -> str:
    if line.startswith(("+++", "---")):
        return style(line, bold=True)
    if line.startswith("+"):
        return style(line, fg="green")
    if line.startswith("-"):
        return style(line, fg="red")
    if line.startswith("@@"):
        return style(line, fg="cyan")
    return line


# --- json -------------------------------------------------------------------------------------


def render_json(review: Review) -> str:
    data = {
        "base": {"rev": review.base, "sha": review.base_sha, "specExisted": review.spec_at_base},
        "summary": {
            "objects": len(review.objects.objects),
            "added": review.objects.count("added"),
            "removed": review.objects.count("removed"),
            "changed": review.objects.count("changed"),
            "clusters": review.objects.clusters,
            "supportFiles": review.objects.support_files,
        },
        "impact": review.impact.to_json(),
        "objects": [
            {
                "change": o.change,
                "cluster": o.cluster,
                "unit": o.unit,
                "path": o.path,
                "kind": o.kind,
                "name": o.name,
                "namespace": o.namespace,
                **({"diff": o.diff} if o.diff else {}),
            }
            for o in review.objects.objects
        ],
    }
    return redact(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


# --- markdown ---------------------------------------------------------------------------------


class _Budget:
    """Appends pieces while they fit in max_bytes (UTF-8, which is ≥ the character count GitHub checks)."""

    def __init__(self, max_bytes: int) -> None:
        self.max = max_bytes
        self.used = 0
        self.parts: list[str] = []

    def fits(self, text: str, reserve: int = 0) -> bool:
        return self.used + len(text.encode()) + reserve <= self.max

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.used += len(text.encode())


def _md_object(obj: ObjectChange, with_diff: bool) -> str:
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    line = f"- `{SYMBOL[obj.change]}` {obj.change} **{obj.kind}** `{where}` — `{obj.path}`\n"
    if with_diff and obj.diff:
        fence = "````" if "```" in obj.diff else "```"
        line += f"\n  {fence}diff\n" + "".join(f"  {x}\n" for x in obj.diff.splitlines()) + f"  {fence}\n\n"
    return line


def render_markdown(review: Review, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A PR comment: impact first, then a collapsible section per cluster; cut to max_bytes, saying what."""
    # Room kept for closing tags and the note on what was left out, whatever is cut.
    reserve = 700
    budget = _Budget(max_bytes)
    budget.add(f"{MARKER}\n### platformc diff: `{base_label(review)}` → this change\n\n{summary(review)}\n\n")
    cut_impact = 0
    impact_lines: list[str] = []
    for section in SECTIONS:
        items = review.impact.section(section)
        if items:
            impact_lines.append(f"**{section}**\n")
            impact_lines.extend(f"- {'⚠️ ' if i.severity == 'warning' else ''}{i.text}\n" for i in items)
            impact_lines.append("\n")
    costs = list(_cost_lines(review.impact))
    if costs:
        impact_lines.append("**Monthly GPU cost** (quota x hourlyCost x 730 h)\n")
        impact_lines.extend(f"- {line}\n" for line in costs)
        impact_lines.append("\n")
    if impact_lines:
        budget.add("#### Impact\n\n")
    for i, line in enumerate(impact_lines):
        if not budget.fits(line, reserve):
            cut_impact = sum(1 for x in impact_lines[i:] if x.startswith("- "))
            break
        budget.add(line)

    cut_diffs = cut_objects = 0
    cut_clusters: list[str] = []
    grouped = review.objects.by_cluster()
    if grouped:
        budget.add("#### Objects\n\n")
    for cluster, units in grouped.items():
        objects = [o for objs in units.values() for o in objs]
        counts = ", ".join(
            f"{n} {c}"
            for c in ("added", "removed", "changed")
            if (n := sum(1 for o in objects if o.change == c))
        )
        head = f"<details><summary><b>{cluster}</b>: {counts}</summary>\n\n"
        if not budget.fits(head, reserve):
            cut_clusters.append(cluster)
            cut_objects += len(objects)
            continue
        budget.add(head)
        for unit, members in units.items():
            unit_head = f"**{unit}**\n\n"
            if not budget.fits(unit_head, reserve):
                cut_objects += len(members)
                continue
            budget.add(unit_head)
            for obj in members:
                full = _md_object(obj, with_diff=True)
                if budget.fits(full, reserve):
                    budget.add(full)
                    continue
                short = _md_object(obj, with_diff=False)
                if budget.fits(short, reserve):
                    budget.add(short)
                    cut_diffs += 1 if obj.diff else 0
                else:
                    cut_objects += 1
            budget.add("\n")
        budget.add("</details>\n\n")
    notes = []
    if cut_impact:
        notes.append(f"{cut_impact} impact line(s)")
    if cut_diffs:
        notes.append(f"the YAML diffs of {cut_diffs} changed object(s)")
    if cut_objects:
        where = (
            f" (all of {len(cut_clusters)} cluster(s): {', '.join(cut_clusters[:5])}" if cut_clusters else ""
        )
        if cut_clusters:
            where += ", …)" if len(cut_clusters) > 5 else ")"
        notes.append(f"{cut_objects} object(s){where}")
    if review.objects.support_files:
        budget.add(
            f"_{len(review.objects.support_files)} kustomization/cluster-info file(s) changed as well._\n"
        )
    if notes:
        budget.add(
            f"\n> [!NOTE]\n> Cut to fit {max_bytes:,} bytes: left out {'; '.join(notes)}. "
            "Run `platformc diff` locally for the full output.\n"
        )
    return redact("".join(budget.parts))  # a PR comment is public: no secret, even from the base
