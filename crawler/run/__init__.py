"""Running a crawl: the Scrapy components around the spider.

``outcome`` (exit statuses and the run's problems), ``politeness`` (downloader middlewares: one
slot per site, robots.txt, Crawl-delay, web archives' back-off), ``capture`` (the WARC capture
middleware), ``report`` (the run report extension) with ``alarms`` (its coverage alarms),
``stats`` (Scrapy's stats collector without its per-access hook).
"""
