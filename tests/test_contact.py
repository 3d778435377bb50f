"""ARCHIVE_CONTACT reaches the User-Agent of every request (crawler/run/contact.py), and a crawl
of a host that is not on loopback refuses to start with the placeholder (crawler/commands/crawl.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings
from warcio.archiveiterator import ArchiveIterator

from crawler import settings as project_defaults
from crawler.run.contact import (
    PLACEHOLDER_CONTACT,
    Contact,
    contact_of,
    is_loopback,
    placeholder_problem,
    user_agent_for,
)
from tests.crawling import REPO, crawl_command
from tests.replica import Replica


def _settings(**cmdline: str) -> Settings:
    settings = Settings()
    settings.setmodule(project_defaults, priority="project")
    settings.setdict(cmdline, priority="cmdline")
    return settings


def test_settings_py_default_is_the_placeholder_agent():
    assert project_defaults.USER_AGENT == user_agent_for(PLACEHOLDER_CONTACT)


@pytest.mark.parametrize(("cmdline", "environ", "contact"), [
    ({}, {}, PLACEHOLDER_CONTACT),
    ({}, {"ARCHIVE_CONTACT": "env@example.org"}, "env@example.org"),
    ({"ARCHIVE_CONTACT": "cli@example.org"}, {}, "cli@example.org"),
    # -s wins over the environment
    ({"ARCHIVE_CONTACT": "cli@example.org"}, {"ARCHIVE_CONTACT": "env@example.org"},
     "cli@example.org"),
    ({}, {"ARCHIVE_CONTACT": "  "}, PLACEHOLDER_CONTACT),
])
def test_contact_precedence(cmdline, environ, contact):
    assert contact_of(_settings(**cmdline), environ) == contact


def test_the_addon_rebuilds_the_user_agent_from_the_contact(monkeypatch):
    monkeypatch.delenv("ARCHIVE_CONTACT", raising=False)
    settings = _settings(ARCHIVE_CONTACT="cli@example.org")
    Contact().update_settings(settings)
    assert settings["USER_AGENT"] == "baonamdinh-archiver/0.1 (+mailto:cli@example.org)"
    monkeypatch.setenv("ARCHIVE_CONTACT", "env@example.org")
    settings = _settings()
    Contact().update_settings(settings)
    assert settings["USER_AGENT"].endswith("(+mailto:env@example.org)")
    assert settings["ARCHIVE_CONTACT"] == "env@example.org"
    # A USER_AGENT given on the command line is kept as given.
    settings = _settings(USER_AGENT="my-agent (ops@example.org)")
    Contact().update_settings(settings)
    assert settings["USER_AGENT"] == "my-agent (ops@example.org)"


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8088", True), ("http://127.3.4.5/", True), ("http://[::1]:80/", True),
    ("http://localhost:8000", True), ("https://baonamdinh.vn", False),
    ("https://web.archive.org", False), ("http://10.0.0.1/", False), ("", False),
])
def test_is_loopback(url, loopback):
    assert is_loopback(url) is loopback


def test_the_placeholder_is_refused_only_off_loopback():
    placeholder = _settings()
    assert placeholder_problem(placeholder, ["http://127.0.0.1:8088"], {}) is None
    problem = placeholder_problem(placeholder, ["https://web.archive.org"], {})
    assert problem and "ARCHIVE_CONTACT" in problem and "web.archive.org" in problem
    assert placeholder_problem(_settings(ARCHIVE_CONTACT="a@example.org"),
                               ["https://baonamdinh.vn"], {}) is None
    assert placeholder_problem(placeholder, ["https://baonamdinh.vn"],
                               {"ARCHIVE_CONTACT": "a@example.org"}) is None


@pytest.mark.parametrize("args", [
    [],
    ["-a", "mode=backfill", "-a", "source=wayback"],
    ["-a", "mode=backfill", "-a", "source=commoncrawl", "-s",
     "COMMONCRAWL_INDEX_URL=http://127.0.0.1:9"],  # its data host is still the real one
])
def test_a_crawl_off_loopback_with_the_placeholder_exits_2_saying_what_to_set(tmp_path, args):
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_CONTACT"}
    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
                           "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "ARCHIVE_CONTACT" in errors[0], done.stderr[-2000:]
    assert not (tmp_path / "archive").exists()  # nothing ran, not even the lock


def _agents(archive: Path) -> list[str]:
    agents = []
    for path in sorted((archive / "raw").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "request":
                    agents.append(record.http_headers.get_header("User-Agent"))
    return agents


@pytest.mark.slow
@pytest.mark.parametrize("how", ["setting", "environment"])
def test_the_contact_reaches_every_request_of_a_crawl(tmp_path, how):
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_CONTACT"}
    settings = {"WARC_ENABLED": "True"}
    if how == "setting":
        settings["ARCHIVE_CONTACT"] = "archivist@example.org"
    else:
        env["ARCHIVE_CONTACT"] = "archivist@example.org"
    with Replica(articles=20, seed=2, crawl_delay=0) as site:
        done = subprocess.run(crawl_command(site.url, tmp_path, settings=settings), cwd=REPO,
                              capture_output=True, text=True, timeout=240, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    agents = _agents(tmp_path)
    assert len(agents) > 20  # robots.txt, home, listings, every article
    assert set(agents) == {"baonamdinh-archiver/0.1 (+mailto:archivist@example.org)"}
