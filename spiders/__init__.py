"""Spiders: they decide what to fetch; extraction lives in crawler.extract.article."""
