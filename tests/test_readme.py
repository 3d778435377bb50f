"""Every shell and Python example of every README and docs/ page runs as written, so they cannot drift.

The convention (also stated in the main README, "Tests"): a fenced block tagged ``sh`` holds
commands to type at the repository root; this test runs each one with bash, in the order the
file gives them, and fails on a non-zero exit. A block tagged ``python`` is a script run the same
way, from the repository root, by the test's own interpreter (the project's ``.venv/bin/python``
under ``make test``), each block on its own: it imports what it uses. A block that cannot run
here (it needs the live site, another tool, or it is this very test) carries, on the line before
it, an HTML comment ``<!-- readme-test: skip REASON -->``, invisible when the README is rendered.
Blocks tagged otherwise (``text``, ``json``, ``ini``, ``cron``) are not run. Examples must leave
nothing untracked behind: what they create is git-ignored.

The examples run in a copy of the working tree (its tracked and untracked files, not the ignored
ones, with the project's ``.venv`` linked in), so what they write (``demo-archive/``,
``replica-run/``, ``bench/work/``...) never touches the checkout: ``make test`` leaves a user's
``demo-archive/`` as it was (tests/conftest.py checks the whole suite for that). ``make demo``
runs there on a free port (``PORT``), so two suites on one machine do not collide.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
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
    """Every README of the repository and every page of docs/, the main README first (the
    others' examples may use the demo's archive that its ``make demo`` writes)."""
    found = sorted(p for p in [*REPO.rglob("README.md"), *(REPO / "docs").glob("*.md")]
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


def working_files(root: Path) -> list[str]:
    """Return the files of the working tree at ``root`` that are not ignored (tracked or not)."""
    if shutil.which("git") is not None and (root / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.split("\0")
        return [rel for rel in listed if rel and (root / rel).is_file()]
    skip = {".git", ".venv", "__pycache__", "demo-archive", "demo-reextract", "replica-run",
            "work", "build", ".pytest_cache"}
    return [str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(root).parts)]


def make_sandbox(target: Path, root: Path = REPO) -> Path:
    """Copy the working tree to ``target`` (times kept, so make finds .venv up to date), link
    the project's .venv in, and make it a git repository of its own for the untracked check."""
    for rel in working_files(root):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target / rel)
    (target / ".venv").symlink_to(root / ".venv", target_is_directory=True)
    if shutil.which("git") is not None:
        subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sandbox(tmp_path_factory.mktemp("readme") / "repo")


@pytest.fixture(scope="module")
def untracked_before(sandbox: Path) -> set[str]:
    return _untracked(sandbox)


def _untracked(root: Path) -> set[str]:
    if shutil.which("git") is None or not (root / ".git").exists():
        return set()
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                          capture_output=True, text=True, check=True)
    return {line[3:] for line in done.stdout.splitlines() if line.startswith("??")}


@pytest.fixture(scope="module")
def example_env() -> dict[str, str]:
    """The examples' environment: the user's, with a free port for ``make demo``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {**os.environ, "PORT": str(port)}


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.name for b in EXAMPLES])
def test_example_runs_as_written(block: Block, sandbox: Path, untracked_before: set[str],
                                 example_env: dict[str, str]):
    if block.skip:
        pytest.skip(block.skip)
    done = subprocess.run([*RUN[block.info], block.body], cwd=sandbox, env=example_env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, (
        f"{block.name} exited {done.returncode}\n--- block\n{block.body}\n--- stdout\n"
        f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def test_examples_leave_nothing_untracked(sandbox: Path, untracked_before: set[str]):
    """What the examples create is git-ignored (or under a git-ignored folder)."""
    new = _untracked(sandbox) - untracked_before
    assert not new, f"README examples left untracked files: {sorted(new)[:10]}"


def test_the_sandbox_is_the_working_tree(tmp_path: Path):
    """The copy holds the checkout's files, tracked and untracked, with their times, and none
    of its ignored output: the examples start from a clean tree and write only in the copy."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "checkout"
    (root / "sub").mkdir(parents=True)
    (root / ".gitignore").write_text("/demo-archive/\nwork/\n")
    (root / "tracked.txt").write_text("tracked")
    (root / "sub" / "new.py").write_text("untracked")
    for output in ("demo-archive/articles/2025-06.jsonl", "sub/work/x.json"):
        (root / output).parent.mkdir(parents=True)
        (root / output).write_text("{}")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "tracked.txt", ".gitignore"], cwd=root, check=True)
    copy = make_sandbox(tmp_path / "copy", root)
    files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*")
                   if p.is_file() and ".git" not in p.relative_to(copy).parts)
    assert files == [".gitignore", "sub/new.py", "tracked.txt"]
    assert (copy / "tracked.txt").stat().st_mtime_ns == (root / "tracked.txt").stat().st_mtime_ns
    assert (copy / ".venv").is_symlink() and (copy / ".venv").readlink() == root / ".venv"


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text("utf-8"))
    return {slug(m[1]) for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_every_link_of_the_readme_and_docs_leads_somewhere():
    """A relative link names a file that exists and, with #anchor, a heading it has."""
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = FENCE.sub("", page.read_text("utf-8"))
        for match in LINK.finditer(text):
            target = match["target"]
            if re.match(r"[a-z]+:", target):
                continue
            name, _, anchor = target.partition("#")
            file = (page.parent / name).resolve() if name else page
            if not file.exists():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_is_a_newcomers_page():
    """At most 400 lines; what it is, the table of contents, the two commands and the three
    jobs' commands all on its first screen (60 lines); no development history."""
    lines = (REPO / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= 400, f"README.md has {len(lines)} lines"
    first = "\n".join(lines[:60])
    for needed in ("**Contents:**", "make demo", "make test", "scrapy crawl baonamdinh\n",
                   "-a mode=backfill", "crawler changes"):
        assert needed.strip() in first, f"{needed.strip()!r} not on the README's first screen"
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        history = re.findall(r"\b(?:[Ii]ssue \d+|[Bb]efore issue|it used to)\b.{0,40}",
                             page.read_text("utf-8"))
        assert not history, f"{page.relative_to(REPO)}: development history {history[:3]}"
