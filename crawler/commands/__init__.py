"""Scrapy commands of the project (COMMANDS_MODULE): ``crawl`` with argument checks and exit codes."""
