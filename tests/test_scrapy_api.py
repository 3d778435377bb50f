"""The Scrapy API the project leans on, checked so that an upgrade that changes it fails here,
loudly and by name, instead of as a crawl that exits 4 for no visible reason.

The project's code uses no private (``_``) name of Scrapy or Twisted (the first test keeps it
so); the rest are public names that are little documented, or the shape of a class we subclass.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from scrapy.core.downloader import Downloader
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import CrawlerProcess
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.settings import default_settings
from scrapy.signalmanager import SignalManager

from tests.crawling import REPO

# Private-looking names that are not Scrapy's or Twisted's private API, each with its reason.
ALLOWED = {
    "etree._Element": "lxml's element type, named in type hints (lxml documents it so)",
    "parts._replace": "a namedtuple's documented method",
    "spider._found": "the project's own spider, set in its from_crawler",
    # crawler/analysis/serve.py keeps its own values on the Datasette instance it builds.
    "ds._archive_root": "the project's own attribute on its Datasette instance",
    "ds._archive_image_origins": "the project's own attribute on its Datasette instance",
    "datasette._archive_root": "the project's own attribute on its Datasette instance",
    "datasette._archive_image_origins": "the project's own attribute on its Datasette instance",
    # crawler/run/redirects.py overrides Scrapy's private hook of both redirect middlewares:
    # test_the_redirect_hook_keeps_its_shape below fails when Scrapy changes it.
    "super()._redirect": "Scrapy's BaseRedirectMiddleware._redirect, checked below",
}


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    own = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            value = node.value
            if isinstance(value, ast.Name) and (value.id in ("self", "cls") or value.id in own):
                continue
            if ast.unparse(node) not in ALLOWED:
                found.append(f"{where} {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                "scrapy", "twisted"):
            if any(part.startswith("_") for part in (node.module or "").split(".")) or any(
                    alias.name.startswith("_") for alias in node.names):
                found.append(f"{where} from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1 and \
                isinstance(node.args[1], ast.Constant) and \
                str(node.args[1].value).startswith("_") and \
                not str(node.args[1].value).startswith("__"):
            found.append(f"{where} {ast.unparse(node)}")
    return found


def test_no_private_name_of_another_package_is_used():
    paths = [p for folder in ("crawler", "spiders", "pipelines")
             for p in sorted((REPO / folder).rglob("*.py"))]
    found = [use for path in paths for use in _private_uses(path)]
    assert not found, ("private names of other packages (use public API, or add the name to "
                       f"ALLOWED with its reason and a check below): {found}")


@pytest.mark.parametrize(("owner", "names"), [
    # crawler/commands/crawl.py: the crawler created by name, run, and how the start went.
    (CrawlerProcess, ["create_crawler", "crawl", "start"]),
    # crawler/run/politeness.py, spiders/: the engine's downloads and back-pressure.
    (ExecutionEngine, ["download_async", "needs_backout", "close_spider_async", "crawl"]),
    (Downloader, ["get_slot_key"]),
    (SignalManager, ["send_catch_log_async", "connect"]),
    # RobotsPolicyMiddleware subclasses it and overrides robot_parser.
    (RobotsTxtMiddleware, ["process_request", "process_request_2", "robot_parser",
                           "DOWNLOAD_PRIORITY"]),
    # CrawlDelayMiddleware reads robots.txt's Crawl-delay (Scrapy 2.17 had no such method).
    (ProtegoRobotParser, ["crawl_delay"]),
])
def test_the_scrapy_names_the_project_calls_exist(owner, names):
    missing = [name for name in names if not hasattr(owner, name)]
    assert not missing, f"{owner.__qualname__} lacks {missing}: Scrapy changed under us"


def test_the_robots_middleware_still_asks_robot_parser_then_process_request_2():
    """RobotsPolicyMiddleware relies on its parent's process_request calling these two."""
    source = inspect.getsource(RobotsTxtMiddleware.process_request)
    assert "self.robot_parser(" in source and "self.process_request_2(" in source, source


def test_the_settings_the_project_sets_are_scrapys():
    # (REMOTE_CONTROL_ENABLED is 2.19's; the Scrapy before it had no remote control to turn off.)
    for name in ("ITEM_PROCESSOR", "SCRAPER_SLOT_MAX_ACTIVE_SIZE", "ADDONS", "STATS_CLASS",
                 "WARN_ON_GENERATOR_RETURN_VALUE",
                 "ROBOTSTXT_PARSER", "DOWNLOAD_SLOTS", "TWISTED_REACTOR"):
        assert hasattr(default_settings, name), f"Scrapy has no setting {name} any more"


def test_a_crawler_process_says_whether_its_start_failed():
    process = CrawlerProcess({"LOG_ENABLED": False})
    assert process.bootstrap_failed is False


def test_the_redirect_hook_keeps_its_shape():
    """crawler/run/redirects.py overrides BaseRedirectMiddleware._redirect (private): both
    redirect middlewares must still call it with (redirected, request, reason)."""
    from scrapy.downloadermiddlewares.redirect import (
        BaseRedirectMiddleware,
        MetaRefreshMiddleware,
        RedirectMiddleware,
    )

    hook = getattr(BaseRedirectMiddleware, "_redirect", None)
    assert hook is not None, "Scrapy's redirect middlewares lost _redirect: see redirects.py"
    assert list(inspect.signature(hook).parameters) == ["self", "redirected", "request",
                                                        "reason"]
    for middleware in (RedirectMiddleware, MetaRefreshMiddleware):
        assert "self._redirect(" in inspect.getsource(middleware.process_response), middleware
