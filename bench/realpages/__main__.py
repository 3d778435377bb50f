"""``python -m bench.realpages``: body F1 on the 181 real pages, ours beside trafilatura."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bench.realpages.run import load_pages, measure

WORK = Path(__file__).resolve().parent.parent / "work"


def table(result: dict[str, Any]) -> str:
    """Return the figures as a Markdown table, then the rejects by reason."""
    sides = [("ours", result["ours"])]
    if "reference" in result:
        sides.append(("trafilatura", result["reference"]))
    lines = ["| | body F1 | precision | recall | rejected | crashes | ms/page median | "
             "ms/page mean |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in sides:
        lines.append(f"| {name} | {s['f1']:.3f} ± {s['f1_std']:.3f} | {s['precision']:.3f} | "
                     f"{s['recall']:.3f} | {s['rejected']} of {result['pages']} "
                     f"({s['rejected_share']:.1%}) | {s['crashes']} | {s['ms']['median']:.1f} | "
                     f"{s['ms_mean']:.1f} |")
    for name, s in sides:
        if s["rejects_by_reason"]:
            lines.append(f"\n{name}, pages without a body by reason:")
            lines += [f"  {count:4d}  {reason}" for reason, count in
                      s["rejects_by_reason"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, write the details to bench/work/realpages.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.realpages", description=__doc__)
    parser.add_argument("--no-reference", action="store_true",
                        help="skip trafilatura (ours only: quicker while iterating)")
    parser.add_argument("--limit", type=int, help="only the first N pages (by key)")
    parser.add_argument("--bootstrap", type=int, default=1000,
                        help="bootstrap samples for the ± (the scorer's default: 1000)")
    parser.add_argument("--out", type=Path, default=WORK / "realpages.json",
                        help="where to write per-page details (default bench/work/realpages.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    pages = load_pages(args.limit)
    result = measure(pages, with_reference=not args.no_reference, n_bootstrap=args.bootstrap)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                        "utf-8")
    print(table(result))
    print(f"\ndetails: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
