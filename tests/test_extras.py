"""Lean installs: the crawler runs without the optional extras, and a command that needs one that
is missing says which, in one line (crawler/cli.py ``extra_of``)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import pytest

from crawler.cli import extra_of
from tests.crawling import REPO, crawl_command
from tests.faults import closed_port
from tests.test_cli import OLD, URL

# The analysis extra's packages, as the installed project declares them.
ANALYSIS = [re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0] for line in
            metadata.requires("baonamdinh-archiver") or [] if 'extra == "analysis"' in line]

# Runs a command as on a machine where the analysis extra was never installed: importing any of
# its packages fails as it would there.
BLOCKED = f"""
import importlib.abc, runpy, sys
BLOCKED = {set(ANALYSIS)!r}
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def without_analysis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("module", "extra"), [
    ("pyarrow", "analysis"), ("pyarrow.parquet", "analysis"), ("duckdb", "analysis"),
    ("plotly", "analysis"), ("polars", "analysis"), ("pandas", "analysis"),
    ("datasette", "analysis"), ("trafilatura", None), ("playwright", "test"), ("scrapyd", "test"),
    ("json", None), (None, None),
])
def test_extra_of(module, extra):
    assert extra_of(module) == extra


def test_the_blocker_blocks():
    done = without_analysis("json.tool", "--help")
    assert done.returncode == 0
    assert "pyarrow" in ANALYSIS and "plotly" in ANALYSIS


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("lean") / "archive"
    done = without_analysis("crawler", "extract", str(OLD / "page.html"), "--url", URL,
                            "--archive-dir", str(root))
    assert done.returncode == 0, done.stderr  # extract needs no extra
    return root


@pytest.mark.parametrize(("command", "needs"), [
    (["report"], "plotly"),
    (["export"], "pyarrow"),
    (["export", "--format", "duckdb"], "duckdb"),
])
def test_a_command_that_needs_the_missing_extra_says_which_in_one_line(small_archive, command,
                                                                      needs):
    done = without_analysis("crawler", *command, "--archive-dir", str(small_archive))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {command[0]} needs {needs}, from the analysis extra, which is not installed: "
        "make install-analysis (or .venv/bin/pip install -e '.[analysis]')"]


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["changes"], ["verify"]])
def test_the_commands_a_cron_box_runs_need_no_extra(small_archive, command, tmp_path):
    done = without_analysis("crawler", *command, "--archive-dir", str(small_archive),
                            *(["--output", str(tmp_path / "a.csv")] if "csv" in command else []))
    assert done.returncode == 0, done.stderr


def test_a_crawl_needs_no_extra(tmp_path):
    command = crawl_command(f"http://127.0.0.1:{closed_port()}", tmp_path,
                            settings={"ROBOTSTXT_RETRY_TIMES": "0"})
    assert command[1:3] == ["-m", "scrapy"]
    done = without_analysis(*command[2:])
    assert done.returncode == 4, done.stderr[-3000:]  # the site is unreachable: it ran
    assert "ModuleNotFoundError" not in done.stderr and (tmp_path / "manifest.json").exists()
