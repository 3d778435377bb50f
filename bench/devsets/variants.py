"""``python -m bench.devsets.variants``: the generic layers' ensemble, variant by variant.

Scores ours on the development parts (never the held-aside ones) once per variant of the
ensemble's rules (crawler/extract/ensemble.py), each set by its own method as
``python -m bench.devsets`` does. The voters' texts do not depend on the rules, so each page's
are computed once and reused by every variant (kept in ``bench/work/devsets-voters.json``, keyed
by a hash of the page); only ours runs again. Prints F1 ± and precision / recall per part.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import crawler.extract.article as article
from bench.devsets.run import ours, score
from bench.devsets.sets import DEV, SETS, load
from crawler.extract import ensemble
from crawler.extract.ensemble import Rules
from crawler.extract.voters import ask
from crawler.process.processing import ItemProcessor, project_settings

WORK = Path(__file__).resolve().parent.parent / "work"
VOTERS_CACHE = WORK / "devsets-voters.json"
# Every variant's figures, per page too.
OUT = WORK / "devsets-variants.json"
# The rules as chosen (crawler/extract/ensemble.py), and each variant tried against them.
BASE = Rules()
# The paragraph vote on every page, without the election first where ours is short.
VOTE = dataclasses.replace(BASE, elect_below=None)
MAJORITY = dataclasses.replace(VOTE, ours_weight=1.0, veto_links=None)
VARIANTS: dict[str, Rules] = {
    # Before the ensemble: a voter's whole body when ours is short and two of three agree.
    "elect-short": dataclasses.replace(BASE, method="elect", when="short"),
    # Plain majority: a line two of three hold, ours' lines too.
    "majority": MAJORITY,
    "majority-short": dataclasses.replace(MAJORITY, when="short"),
    "majority-between": dataclasses.replace(MAJORITY, between=True),
    # Ours' lines kept whatever the voters say; lines both voters hold added.
    "add-only": dataclasses.replace(VOTE, veto_links=None),
    "add-only-chrome": dataclasses.replace(VOTE, veto_links=None, veto_chrome=True),
    "add-only-links-0.5": dataclasses.replace(VOTE, veto_links=0.5),
    # Ours weighs two when its own confidence is this high, one below (so its lines no voter
    # holds are dropped).
    "confident-0.6": dataclasses.replace(VOTE, veto_links=None, confident_above=0.6),
    "confident-0.7": dataclasses.replace(VOTE, veto_links=None, confident_above=0.7),
    "confident-0.8": dataclasses.replace(VOTE, veto_links=None, confident_above=0.8),
    # Add-only with lines that are all link text refused, then one change at a time.
    "vote": VOTE,
    "vote-chrome": dataclasses.replace(VOTE, veto_chrome=True),
    "vote-between": dataclasses.replace(VOTE, between=True),
    "vote-hold-0.3": dataclasses.replace(VOTE, hold=0.3),
    "vote-hold-0.7": dataclasses.replace(VOTE, hold=0.7),
    "vote-ngram-3": dataclasses.replace(VOTE, ngram=3),
    "vote-ngram-6": dataclasses.replace(VOTE, ngram=6),
    "vote-short": dataclasses.replace(VOTE, when="short"),
    "vote-uncertain-0.7": dataclasses.replace(VOTE, when="uncertain", uncertain_below=0.7),
    "vote-uncertain-0.9": dataclasses.replace(VOTE, when="uncertain", uncertain_below=0.9),
    # The chosen rules: the vote, and where ours is short the election first (a voter's whole
    # body, as before the ensemble); then one change at a time.
    "chosen": BASE,
    "chosen-uncertain-0.7": dataclasses.replace(BASE, when="uncertain", uncertain_below=0.7),
    "chosen-add-only": dataclasses.replace(BASE, veto_links=None),
    "chosen-between": dataclasses.replace(BASE, between=True),
    "chosen-trim-tail-0.2": dataclasses.replace(BASE, trim_tail=0.2),
    "chosen-trim-tail-0.4": dataclasses.replace(BASE, trim_tail=0.4),
    "chosen-trim-tail-0.6": dataclasses.replace(BASE, trim_tail=0.6),
}


def _key(html: str, url: str | None) -> str:
    return hashlib.sha256(f"{url}\0{html}".encode()).hexdigest()[:32]


class CachedVoters:
    """``ask`` with each page's answer remembered (in memory and in VOTERS_CACHE)."""

    def __init__(self, path: Path = VOTERS_CACHE) -> None:
        self.path = path
        self.known: dict[str, dict[str, str]] = {}
        if path.is_file():
            self.known = json.loads(path.read_text("utf-8"))
        self.new = 0
        self.calls = 0

    def __call__(self, html: str, url: str | None = None) -> dict[str, str]:
        """Return the voters' bodies for a page, asking them the first time only."""
        key = _key(html, url)
        self.calls += 1
        if key not in self.known:
            self.known[key] = ask(html, url)
            self.new += 1
        return self.known[key]

    def save(self) -> None:
        """Write the answers to disk if any is new."""
        if self.new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.known), "utf-8")


def run_variant(rules: Rules, pages: list, n_bootstrap: int) -> dict[str, Any]:
    """Return each development part's figures for ours under ``rules``."""
    ensemble.RULES = rules
    settings = project_settings({"ARCHIVE_ENABLED": False, "LOG_LEVEL": "ERROR"})
    with ItemProcessor(settings) as processor:
        outcomes = [ours(processor, page) for page in pages]
    parts: dict[str, Any] = {}
    for set_name in dict.fromkeys(p.set for p in pages):
        indices = [i for i, p in enumerate(pages) if p.set == set_name]
        parts[f"{set_name}/{DEV}"] = score([pages[i] for i in indices],
                                           [outcomes[i] for i in indices], n_bootstrap)
        parts[f"{set_name}/{DEV}"]["extraction"] = {
            pages[i].key: (outcomes[i].extra or {}).get("confidence") for i in indices}
    return parts


def main(argv: list[str] | None = None) -> int:
    """Score every chosen variant on the development parts and print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench.devsets.variants",
                                     description=__doc__)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap samples for ±")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    pages = [page for name in args.sets for page in load(name, DEV)]
    voters = CachedVoters()
    article.ask = voters
    rows = []
    # Variants measured before stay in the file (each run replaces only its own).
    details: dict[str, Any] = json.loads(OUT.read_text("utf-8")) if OUT.is_file() else {}
    try:
        for name in args.variants:
            voters.calls = 0
            parts = run_variant(VARIANTS[name], pages, args.bootstrap)
            voters.save()
            parts["asked"] = voters.calls
            details[name] = parts
            cells = " | ".join(
                f"{f['f1']:.3f} ± {f['f1_std']:.3f} ({f['precision']:.3f} / {f['recall']:.3f})"
                for _, f in sorted(parts.items()) if isinstance(f, dict))
            rows.append(f"| {name} | {cells} | {voters.calls} of {len(pages)} |")
            print(rows[-1], file=sys.stderr, flush=True)
            head = " | ".join(f"{part} F1 (P / R)" for part in sorted(parts)
                              if part != "asked")
    finally:
        voters.save()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(details, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"| variant | {head} | pages the voters were asked about |")
    print("| --- |" + " ---: |" * len(parts))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
