"""Reading pages: a fetched page (or an old text dump) in, an item out, as printed.

Pure functions over HTML and text, no engine, no settings: ``urls`` (which article a URL is),
``response`` (a Scrapy response to an item or a reject), ``article`` (the layered extraction of
one article page), ``listings`` (home and listing pages), ``textdump`` (old plain-text dumps).
Cleaning and normalising what was read is crawler/normalise/'s job.
"""
