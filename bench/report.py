"""Rendering of the benchmark's figures: a Markdown table (printed and saved) and JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.stats import ratio


@dataclass
class Row:
    """One figure: ours and its reference, measured side by side in the same run."""

    figure: str
    unit: str
    ours: float | None
    reference: float | None
    reference_name: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Ours divided by the reference."""
        return ratio(self.ours, self.reference)

    def as_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready data, ratio included."""
        return dict(asdict(self), ratio=self.ratio)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """Return what the figures were measured on."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "scrapy": _version("scrapy"),
        "trafilatura": _version("trafilatura"),
        "dateparser": _version("dateparser"),
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit in {"requests", "articles"}:
        return f"{value:,.0f}"
    if unit == "score":  # 0.970 and 0.958, not 0.97: the third decimal is what is compared
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def markdown(rows: list[Row], info: dict[str, Any], notes: list[str]) -> str:
    """Return the figures as a Markdown table with the machine line above and notes below."""
    lines = [
        f"Measured {info['date']} on {info['machine']}, {info['cpu']}, {info['cores']} cores; "
        f"Python {info['python']}, Scrapy {info['scrapy']}, trafilatura {info['trafilatura']}, "
        f"dateparser {info['dateparser']}. Benchmark wall time {info['wall_seconds']:.0f} s."
        + (f" Load average (1 min) {info['load'][0]:.1f} at the start, {info['load'][1]:.1f} at "
           "the end: other processes shared the cores." if info.get("load") else ""),
        "",
        "| Figure | Unit | Ours | Reference | Ours / reference | Note |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        ratio_text = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        reference = f"{_fmt(row.reference, row.unit)} ({row.reference_name})"
        lines.append(f"| {row.figure} | {row.unit} | {_fmt(row.ours, row.unit)} | {reference} | "
                     f"{ratio_text} | {row.note} |")
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def write(rows: list[Row], info: dict[str, Any], notes: list[str], details: dict[str, Any],
          json_path: Path, md_path: Path) -> str:
    """Write results.json and results.md; return the Markdown."""
    text = markdown(rows, info, notes)
    md_path.write_text("# Benchmark results\n\n" + text, encoding="utf-8")
    payload = {"machine": info, "figures": [row.as_dict() for row in rows], "notes": notes,
               "details": details}
    json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                         encoding="utf-8")
    return text
