"""Every shell and Python example of every README runs as written, so the READMEs cannot drift.

The convention (also stated in the main README, "Tests"): a fenced block tagged ``sh`` holds
commands to type at the repository root; this test runs each one with bash, in the order the
file gives them, and fails on a non-zero exit. A block tagged ``python`` is a script run the same
way, from the repository root, by the test's own interpreter (the project's ``.venv/bin/python``
under ``make test``), each block on its own: it imports what it uses. A block that cannot run
here (it needs the live site, another tool, or it is this very test) carries, on the line before
it, an HTML comment ``<!-- readme-test: skip REASON -->``, invisible when the README is rendered.
Blocks tagged otherwise (``text``, ``json``, ``ini``, ``cron``) are not run. Examples must leave
nothing untracked behind: what they create is git-ignored.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.crawling import REPO

pytestmark = pytest.mark.slow

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s+(?P<reason>[^>]*?)\s*-->\s*$")
# A command line the way our READMEs write them: it must sit in an ``sh`` block.
COMMANDISH = re.compile(r"^(?:\.venv/bin/|make\b|python3? -m |scrapy |git )", re.MULTILINE)
TIMEOUT = 300


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    info: str
    body: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def readmes() -> list[Path]:
    """Every README of the repository, the main one first."""
    found = sorted(p for p in REPO.rglob("README.md")
                   if not any(part.startswith(".") or part in ("build", "work") for part in
                              p.relative_to(REPO).parts))
    return sorted(found, key=lambda p: (p != REPO / "README.md", str(p)))


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a README, each with the skip reason written before it, if any."""
    text = path.read_text("utf-8")
    out = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = [x for x in text[: match.start()].splitlines() if x.strip()][-1:]
        skip = SKIP.search(before[0]) if before else None
        out.append(Block(path, line, match["info"].strip(), match["body"],
                         skip["reason"] if skip else None))
    return out


ALL = [b for path in readmes() for b in blocks(path)]
RUN = {"sh": ["bash", "-euo", "pipefail", "-c"], "python": [sys.executable, "-c"]}
EXAMPLES = [b for b in ALL if b.info in RUN]


def test_the_convention_holds():
    """Every block that looks like commands is a run block; every skip names its reason."""
    assert EXAMPLES, "no sh or python block found: the README test would prove nothing"
    untagged = [b.name for b in ALL if b.info not in RUN and COMMANDISH.search(b.body)]
    assert not untagged, f"command lines outside an sh or python block: {untagged}"
    for block in EXAMPLES:
        if block.skip is not None:
            assert len(block.skip) > 10, f"{block.name}: say why it is not run"


@pytest.fixture(scope="module")
def untracked_before() -> set[str]:
    return _untracked()


def _untracked() -> set[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        return set()
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return {line[3:] for line in done.stdout.splitlines() if line.startswith("??")}


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.name for b in EXAMPLES])
def test_example_runs_as_written(block: Block, untracked_before: set[str]):
    if block.skip:
        pytest.skip(block.skip)
    done = subprocess.run([*RUN[block.info], block.body], cwd=REPO,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (
        f"{block.name} exited {done.returncode}\n--- block\n{block.body}\n--- stdout\n"
        f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def test_examples_leave_nothing_untracked(untracked_before: set[str]):
    """What the examples create is git-ignored (or under a git-ignored folder)."""
    new = _untracked() - untracked_before
    assert not new, f"README examples left untracked files: {sorted(new)[:10]}"
