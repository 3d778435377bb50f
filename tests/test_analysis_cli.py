"""The analysts' commands at the command line, and the demo's closing advice, run as printed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.crawling import REPO


def crawler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["export"], ["report"], ["changes"], ["verify"]])
@pytest.mark.parametrize(("where", "why"), [("nothing", "no such folder"),
                                            ("empty", "it has no articles/ folder"),
                                            ("file", "it is a file")])
def test_a_folder_that_is_no_archive_is_a_usage_error(tmp_path, command, where, why):
    """A typo in --archive-dir must not look like an empty archive (a nightly pull of changes
    would silently deliver nothing): exit 2, one line saying why, nothing written."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    done = crawler(*command, "--archive-dir", str(tmp_path / where))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"error: {tmp_path / where} is not an archive: {why}"]
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "a read-only command wrote"


@pytest.mark.slow
def test_the_demo_ends_with_commands_that_work_as_printed(tmp_path):
    archive = tmp_path / "demo-archive"
    done = subprocess.run([sys.executable, "-m", "tests.replica.demo", "--archive-dir",
                           str(archive), "--articles", "30", "--port", "0"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # A short summary (issue 22): counts and places, not the whole run report.
    printed = (done.stdout + done.stderr).splitlines()
    assert len(printed) <= 80, f"{len(printed)} lines:\n{done.stdout}"
    assert "demo: crawl finished" in done.stdout and '"by_month"' not in done.stdout
    assert f"{archive}/runs/" in done.stdout and "new, 0 updated" in done.stdout
    tail = done.stdout[done.stdout.index("demo: what to look at next"):]
    assert f"open {archive / 'report.html'}" in tail
    assert (archive / "report.html").stat().st_size > 1_000_000
    commands = [line.split("$ ", 1)[1] for line in tail.splitlines() if line.startswith("    $ ")]
    assert len(commands) == 4, tail
    outputs = {}
    for command in commands:
        ran = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, f"{command}\n{ran.stderr[-2000:]}"
        outputs[command.split(" -m ")[-1].split()[0]] = ran
    record = json.loads(outputs["json.tool"].stdout)
    assert record["id"] and "\\u" not in outputs["json.tool"].stdout
    assert (archive / "exports" / "articles.parquet").is_file()
    assert outputs["crawler"].stderr.startswith("verify: OK")
