"""The results table (terminal and Markdown) and the targets each scenario is judged by."""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Target:
    min_ratio: float | None = None  # share of /healthz throughput
    max_p99_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:.0%} of /healthz")
        if self.max_p99_ms is not None:
            parts.append(f"p99 < {self.max_p99_ms:g} ms")
        return ", ".join(parts) or "—"


@dataclass
class Row:
    scenario: str
    requests: int
    ok: int
    non_2xx: int
    errors: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    peak_rss_mb: float
    server_cpu_ms: float  # worker CPU per request
    db_cpu_ms: float  # CPU of the worker's PostgreSQL backends per request
    ratio: float | None = None
    target: Target = field(default_factory=Target)
    note: str = ""

    @property
    def met(self) -> bool | None:
        checks = []
        if self.target.min_ratio is not None and self.ratio is not None:
            checks.append(self.ratio >= self.target.min_ratio)
        if self.target.max_p99_ms is not None:
            checks.append(self.p99_ms < self.target.max_p99_ms)
        if self.non_2xx or self.errors:
            checks.append(False)
        return all(checks) if checks else None


@dataclass
class Extra:
    """A figure that is not a load run (memory targets, seeding time)."""

    name: str
    value: str
    target: str
    met: bool | None


@dataclass
class Results:
    machine: dict[str, str]
    concurrency: int
    duration_s: float
    healthz_before: float
    healthz_after: float
    rows: list[Row] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)

    @property
    def healthz(self) -> float:
        """The ceiling every ratio divides by: the mean of the /healthz runs before and after the rest."""
        runs = [x for x in (self.healthz_before, self.healthz_after) if x]
        return sum(runs) / len(runs) if runs else float("nan")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False, default=str))


def _fmt(value: float, digits: int = 1) -> str:
    return (
        "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    )


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[met]


HEADERS = [
    "scenario",
    "req/s",
    "% of /healthz",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "non-2xx/errors",
    "worker CPU ms/req",
    "PG CPU ms/req",
    "peak RSS MB",
    "target",
    "verdict",
]


def _cells(row: Row) -> list[str]:
    ratio = "—" if row.ratio is None else f"{row.ratio:.0%}"
    return [
        row.scenario,
        _fmt(row.throughput, 0),
        ratio,
        _fmt(row.p50_ms),
        _fmt(row.p95_ms),
        _fmt(row.p99_ms),
        f"{row.non_2xx}/{row.errors}",
        _fmt(row.server_cpu_ms, 2),
        _fmt(row.db_cpu_ms, 2),
        _fmt(row.peak_rss_mb, 0),
        row.target.describe(),
        _verdict(row.met),
    ]


def print_table(results: Results, console: Console) -> None:
    table = Table(
        title=f"{results.concurrency} concurrent clients, {results.duration_s:g} s per scenario; "
        f"/healthz {results.healthz_before:,.0f} before, {results.healthz_after:,.0f} after"
    )
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("scenario", "target") else "right")
    for row in results.rows:
        table.add_row(*_cells(row))
    console.print(table)
    if results.extras:
        extra = Table(title="Other measurements")
        for header in ("measurement", "value", "target", "verdict"):
            extra.add_column(header)
        for item in results.extras:
            extra.add_row(item.name, item.value, item.target, _verdict(item.met))
        console.print(extra)
    for row in results.rows:
        if row.note:
            console.print(f"[dim]{row.scenario}: {row.note}[/dim]")


def markdown(results: Results) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in results.rows]
    if results.extras:
        lines += ["", "| measurement | value | target | verdict |", "|---|---|---|---|"]
        lines += [f"| {e.name} | {e.value} | {e.target} | {_verdict(e.met)} |" for e in results.extras]
    return "\n".join(lines) + "\n"
