"""Tests; tests.replica is the local replica of baonamdinh.vn that crawl tests run against."""
