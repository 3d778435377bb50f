"""Running a crawl: the Scrapy components around the spider, and the offline pipeline runner.

``politeness`` (downloader middlewares: one slot per site, robots.txt Crawl-delay), ``report``
(the run report extension and its coverage alarms), ``processing`` (ITEM_PIPELINES run outside
the engine, for the command line and re-extraction).
"""
