"""``python -m bench.devsets``: ours, trafilatura and readability-lxml on the development sets.

By default the development parts only (the ones rules may be tuned on); ``--held`` scores the
held-aside parts instead: look at them once, at the end of a piece of work.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bench.devsets.run import EXTRACTORS, measure
from bench.devsets.sets import DEV, HELD, SETS, load, missing_message

WORK = Path(__file__).resolve().parent.parent / "work"
NAMES = {"ours": "ours", "trafilatura": "trafilatura", "readability": "readability-lxml"}


def table(result: dict[str, Any], extractors: tuple[str, ...] = EXTRACTORS) -> str:
    """Return the figures as a Markdown table, then the pages without text by reason."""
    head = " | ".join(f"{NAMES[e]} F1" for e in extractors)
    lines = [f"| set / part | pages | method | {head} | ours P / R | ours ≥ best other + 0.01 |",
             "| --- | ---: | --- | " + " | ".join("---:" for _ in extractors) + " | ---: | --- |"]
    for part, figures in sorted(result["parts"].items()):
        cells = " | ".join(f"{figures[e]['f1']:.3f} ± {figures[e]['f1_std']:.3f}"
                           for e in extractors)
        mine = figures.get("ours")
        others = [figures[e]["f1"] for e in extractors if e != "ours"]
        verdict = ("yes" if mine and others and mine["f1"] >= max(others) + 0.01 else
                   "no" if mine and others else "—")
        pr = f"{mine['precision']:.3f} / {mine['recall']:.3f}" if mine else "—"
        first = figures[extractors[0]]
        lines.append(f"| {part} | {first['pages']} | {first['method']} | {cells} | {pr} | "
                     f"{verdict} |")
    lines.append("")
    lines.append("| set / part | " + " | ".join(f"{NAMES[e]} ms/page mean (median)"
                                                for e in extractors) + " |")
    lines.append("| --- | " + " | ".join("---:" for _ in extractors) + " |")
    for part, figures in sorted(result["parts"].items()):
        lines.append(f"| {part} | " + " | ".join(
            f"{figures[e]['ms_mean']:.1f} ({figures[e]['ms_median']:.1f})" for e in extractors)
            + " |")
    for part, figures in sorted(result["parts"].items()):
        for e in extractors:
            reasons = figures[e]["empty_by_reason"]
            if reasons:
                listed = "; ".join(f"{count} {reason}" for reason, count in reasons.items())
                lines.append(f"\n{part}, {NAMES[e]}: {figures[e]['empty']} page(s) without "
                             f"text: {listed}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, write the details to bench/work/devsets.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.devsets", description=__doc__)
    parser.add_argument("--held", action="store_true",
                        help="score the held-aside parts instead of the development parts")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--limit", type=int, help="only the first N pages of each set part")
    parser.add_argument("--ours-only", action="store_true", help="skip both references")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap samples for ±")
    parser.add_argument("--out", type=Path, default=WORK / "devsets.json",
                        help="where to write per-page details (default bench/work/devsets.json)")
    args = parser.parse_args(argv)
    # The references log every page they cannot parse; the table counts those pages.
    logging.basicConfig(level=logging.CRITICAL)
    message = missing_message()
    if message:
        print(message, file=sys.stderr)
    part = HELD if args.held else DEV
    pages = [page for name in args.sets for page in load(name, part, limit=args.limit)]
    extractors = ("ours",) if args.ours_only else EXTRACTORS
    result = measure(pages, extractors=extractors, n_bootstrap=args.bootstrap,
                     progress=lambda text: print(text, file=sys.stderr, flush=True))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                        "utf-8")
    print(table(result, extractors))
    print(f"\ndetails: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
