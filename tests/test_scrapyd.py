"""Scrapyd, as its users run it: scrapyd-deploy from a clone with the target in scrapy.cfg, jobs
scheduled through its HTTP API with ``-d setting=...``, their exit statuses in Scrapyd's log.

A real Scrapyd (the test extra) runs on a free loopback port in a temporary folder, and is stopped
at the end; the crawls go to the local replica. Nothing touches the internet.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawling import REPO, archive_lines, last_report
from tests.faults import closed_port
from tests.replica import Replica

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PROJECT = "baonamdinh"
# What a clone holds that a deploy needs (without .git: the files git tracks, where it can say).
CLONE_PATHS = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md", "crawler", "spiders",
               "pipelines")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clone(target: Path) -> Path:
    """Copy the project's tracked files (as a fresh clone has them) into ``target``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *CLONE_PATHS], cwd=REPO,
                            capture_output=True) if shutil.which("git") else None
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed and \
        listed.returncode == 0 else []
    if not names:  # no git here: the same paths, caches left out
        names = [str(p.relative_to(REPO)) for name in CLONE_PATHS for p in
                 ([REPO / name] if (REPO / name).is_file() else (REPO / name).rglob("*"))
                 if p.is_file() and "__pycache__" not in p.parts]
    for name in names:
        if (REPO / name).is_file():  # a file added to git's index but deleted since is skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def _get(base: str, path: str, **params: str) -> dict[str, Any]:
    url = f"{base}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def _schedule(base: str, settings: dict[str, str], **args: str) -> str:
    """POST schedule.json as ``curl -d project=... -d spider=... -d setting=K=V`` does."""
    fields = [("project", PROJECT), ("spider", "baonamdinh"),
              *(("setting", f"{k}={v}") for k, v in settings.items()), *args.items()]
    request = urllib.request.Request(f"{base}/schedule.json",
                                     data=urllib.parse.urlencode(fields).encode())
    with urllib.request.urlopen(request, timeout=60) as answer:
        reply = json.loads(answer.read())
    assert reply["status"] == "ok", reply
    return reply["jobid"]


def _wait_finished(base: str, jobs: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = {job["id"] for job in _get(base, "listjobs.json", project=PROJECT)["finished"]}
        if set(jobs) <= finished:
            return
        time.sleep(0.5)
    raise AssertionError(f"Scrapyd jobs not finished after {timeout} s: {jobs}")


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A Scrapyd on a free loopback port, its data in a temporary folder; stopped after."""
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = _free_port()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\npoll_interval = 0.2\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n", "utf-8")
    log = home / "scrapyd.log"
    process = subprocess.Popen([str(BIN / "scrapyd"), "--logfile", str(log), "--pidfile", ""],
                               cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base, "daemonstatus.json")
                break
            except OSError:
                assert process.poll() is None, log.read_text() if log.exists() else "no log"
                assert time.monotonic() < deadline, "Scrapyd did not start within 60 s"
                time.sleep(0.2)
        yield {"base": base, "port": port, "home": home, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_deploy_schedule_and_exit_statuses_through_scrapyd(scrapyd: dict[str, Any],
                                                           tmp_path: Path) -> None:
    clone = _clone(tmp_path / "clone")
    cfg = clone / "scrapy.cfg"
    # The clone's own target (the [deploy] section), pointed at this Scrapyd's port.
    text = cfg.read_text("utf-8")
    assert "url = http://localhost:6800/" in text
    cfg.write_text(text.replace("localhost:6800", f"127.0.0.1:{scrapyd['port']}"), "utf-8")
    deployed = subprocess.run([str(BIN / "scrapyd-deploy")], cwd=clone, capture_output=True,
                              text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert '"status": "ok"' in deployed.stdout and '"spiders": 1' in deployed.stdout, \
        deployed.stdout
    assert _get(scrapyd["base"], "listspiders.json", project=PROJECT)["spiders"] == ["baonamdinh"]

    archive = tmp_path / "archive"
    with Replica(articles=30, seed=6, crawl_delay=0) as site:
        common = {"SITE_HOST_ALIASES": "localhost", "DOWNLOAD_DELAY": "0",
                  "AUTOTHROTTLE_ENABLED": "False", "ARCHIVE_FSYNC": "False"}
        good = _schedule(scrapyd["base"], {"SITE_URL": site.url, "ARCHIVE_DIR": str(archive),
                                           **common})
        dead = _schedule(scrapyd["base"], {"SITE_URL": f"http://127.0.0.1:{closed_port()}",
                                           "ARCHIVE_DIR": str(tmp_path / "dead"),
                                           "ROBOTSTXT_RETRY_TIMES": "0", **common})
        _wait_finished(scrapyd["base"], [good, dead])
        truth = site.truth()
    # The job ran the spider with its settings and archived every article.
    assert len(archive_lines(archive)) == len(truth)
    assert last_report(archive)["exit_code"] == 0
    log = scrapyd["log"].read_text("utf-8")
    finished = [line for line in log.splitlines() if f"job='{good}'" in line]
    assert any("Process finished:" in line for line in finished), finished
    died = [line for line in log.splitlines() if f"job='{dead}'" in line]
    assert any("Process died: exitstatus=4" in line for line in died), died
    job_log = scrapyd["home"] / "logs" / PROJECT / "baonamdinh" / f"{dead}.log"
    assert "exit status 4: " in job_log.read_text("utf-8")
