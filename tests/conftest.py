"""The suite leaves the working tree as it found it: tests write to their own temporary folders.

A session fixture notes, before the first test, every file of the checkout that git does not
track (untracked ones, and the contents of ignored folders such as ``demo-archive/``, with size
and modification time) and compares after the last: a test that leaves output behind
(``replica-run/``, ``bench/work/``...), deletes such a file or rewrites a user's
``demo-archive/`` fails the run, at the teardown of the last test, naming the files. Caches and
the virtualenv are not looked at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What tests and tools may create or change in the checkout: caches, the virtualenv, the build.
NOT_OUTPUT = frozenset({".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build", ".git"})


def _not_output(rel: str) -> bool:
    parts = rel.rstrip("/").split("/")
    return any(part in NOT_OUTPUT or part.endswith(".egg-info") for part in parts)


def tree_outside_git(root: Path = REPO) -> dict[str, tuple[int, int, bool]] | None:
    """Return {path: (size, mtime_ns, ignored)} of every file git does not track under ``root``
    (untracked, or inside an ignored folder), caches aside; None when ``root`` is no git
    checkout."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None

    def listed(*options: str) -> list[str]:
        # A wholly untracked or ignored folder is listed once, as "folder/".
        return subprocess.run(["git", "ls-files", "-z", "--others", "--directory", *options],
                              cwd=root, capture_output=True, text=True,
                              check=True).stdout.split("\0")

    ignored = [rel for rel in listed("--ignored", "--exclude-standard") if rel]
    found: dict[str, tuple[int, int, bool]] = {}
    for rel in listed():  # without --exclude-standard: ignored files too
        if not rel or _not_output(rel):
            continue
        path = root / rel
        files = [path] if not path.is_dir() else [
            Path(folder) / name for folder, dirs, names in os.walk(path)
            for name in names if not _not_output(os.path.relpath(folder, root))]
        for file in files:
            try:
                stat = file.lstat()
            except FileNotFoundError:
                continue
            name = str(file.relative_to(root))
            is_ignored = any(name == i or (i.endswith("/") and name.startswith(i))
                             for i in ignored)
            found[name] = (stat.st_size, stat.st_mtime_ns, is_ignored)
    return found


@pytest.fixture(scope="session", autouse=True)
def working_tree_untouched() -> Iterator[None]:
    """Fail the run when the tests created or deleted files git does not track, or changed
    ignored ones (a user's ``demo-archive/``). Untracked source files being edited while the
    suite runs are not the tests' doing: their changes are not counted."""
    before = tree_outside_git()
    yield
    if before is None:
        return
    after = tree_outside_git() or {}
    created = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after)
                     if before[p][2] and before[p][:2] != after[p][:2])
    if created or deleted or changed:
        pytest.fail("the tests changed the working tree outside git (tests must write to their "
                    f"own tmp folders): created {created[:8]} ({len(created)}), deleted "
                    f"{deleted[:8]} ({len(deleted)}), changed {changed[:8]} ({len(changed)})",
                    pytrace=False)
