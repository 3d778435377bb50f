"""Who runs the crawl: ARCHIVE_CONTACT in the User-Agent of every request, and no real host
crawled with the placeholder.

The contact comes from ``-s ARCHIVE_CONTACT=`` (or any setting source above the project's, such as
Scrapyd's ``-d setting=``), else the ``ARCHIVE_CONTACT`` environment variable, else
crawler/settings.py. The Contact add-on builds ``USER_AGENT`` from it once every setting is in
(settings.py alone computes it too early, from its own default), unless ``USER_AGENT`` itself was
given above the project's priority. ``placeholder_problem`` is the crawl command's check
(crawler/commands/crawl.py): a crawl of a host that is not on loopback with the placeholder in
its User-Agent is a usage error, since the site and the web archives ask for a real contact.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import SETTINGS_PRIORITIES

PLACEHOLDER_CONTACT = "archive-operator@example.invalid"
AGENT = "baonamdinh-archiver/0.1 (+mailto:{contact})"
ENVIRONMENT = "ARCHIVE_CONTACT"
PROJECT = SETTINGS_PRIORITIES["project"]


def user_agent_for(contact: str) -> str:
    """Return the User-Agent that names the project and this contact."""
    return AGENT.format(contact=contact.strip())


def contact_of(settings: Any, environ: Mapping[str, str] | None = None) -> str:
    """Return the effective contact: a setting above the project's, the environment, settings.py."""
    environ = os.environ if environ is None else environ
    given = settings.getpriority("ARCHIVE_CONTACT") or 0
    from_env = (environ.get(ENVIRONMENT) or "").strip()
    if given <= PROJECT and from_env:
        return from_env
    return (settings.get("ARCHIVE_CONTACT") or "").strip()


def user_agent_of(settings: Any, environ: Mapping[str, str] | None = None) -> str:
    """Return the User-Agent a crawl with these settings sends."""
    if (settings.getpriority("USER_AGENT") or 0) > PROJECT:
        return settings.get("USER_AGENT")
    return user_agent_for(contact_of(settings, environ))


class Contact:
    """Add-on: ``USER_AGENT`` (and ``ARCHIVE_CONTACT``) from the contact in force."""

    def update_settings(self, settings: Any) -> None:
        contact = contact_of(settings)
        agent = user_agent_of(settings)
        # The project's priority: above settings.py's own value, below -s on the command line.
        if (settings.getpriority("ARCHIVE_CONTACT") or 0) <= PROJECT:
            settings.set("ARCHIVE_CONTACT", contact, priority="project")
        if (settings.getpriority("USER_AGENT") or 0) <= PROJECT:
            settings.set("USER_AGENT", agent, priority="project")


def is_loopback(url: str) -> bool:
    """True when a URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def placeholder_problem(settings: Any, targets: Iterable[str],
                        environ: Mapping[str, str] | None = None) -> str | None:
    """Return why a crawl of these base URLs must not start (the placeholder contact), or None."""
    agent = user_agent_of(settings, environ)
    if PLACEHOLDER_CONTACT not in agent:
        return None
    remote = [url for url in targets if url and not is_loopback(url)]
    if not remote:
        return None
    return (f"the User-Agent names the placeholder contact {PLACEHOLDER_CONTACT}, and "
            f"{', '.join(remote)} is not this machine: set a real one with -s "
            f"ARCHIVE_CONTACT=you@example.org or the {ENVIRONMENT} environment variable")
