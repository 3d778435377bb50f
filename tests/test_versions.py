"""The versions pyproject.toml declares are the ones CI tests: .ci/minimums.txt pins each declared
minimum, and .ci/run runs the suite with it as well as with the latest releases."""

from __future__ import annotations

import re
from importlib import metadata

from tests.crawling import REPO

UNTESTED_EXTRAS = {"bench", "dev"}  # not installed by make test


def _declared() -> dict[str, str]:
    """{package: its declared minimum} for the crawler and the extras make test installs."""
    declared = {}
    for line in metadata.requires("baonamdinh-archiver") or []:
        extra = re.search(r'extra == "([^"]+)"', line)
        if extra and extra.group(1) in UNTESTED_EXTRAS:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", line)
        floor = re.search(r">=\s*([0-9.]+)", line.split(";")[0])
        assert name and floor, f"declared without a minimum: {line!r}"
        declared[name.group(0).lower()] = floor.group(1)
    return declared


def _pinned() -> dict[str, str]:
    pinned = {}
    for line in (REPO / ".ci" / "minimums.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pinned[name.strip().lower()] = version.strip()
    return pinned


def _release(version: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in version.split("."))
    return parts + (0,) * (3 - len(parts))


def test_the_constraints_pin_every_declared_minimum():
    declared, pinned = _declared(), _pinned()
    assert set(pinned) == set(declared), (set(pinned) ^ set(declared))
    for name, floor in declared.items():
        assert _release(pinned[name]) == _release(floor), (name, floor, pinned[name])


def test_ci_runs_the_suite_at_the_minimums_and_at_the_latest():
    run = (REPO / ".ci" / "run").read_text("utf-8")
    assert "CONSTRAINTS=.ci/minimums.txt" in run and re.search(r"^make test$", run, re.M)
