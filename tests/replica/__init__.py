"""Local replica of baonamdinh.vn: a deterministic HTTP site on loopback for crawl tests."""

from __future__ import annotations

from tests.replica.server import Replica, RequestCounter

__all__ = ["Replica", "RequestCounter"]
