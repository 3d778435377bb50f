"""Reading pages: a fetched page (or an old text dump) in, an item out, as printed.

Pure functions over HTML and text, no engine, no settings: ``response`` (a Scrapy response to an
item or a reject), ``article`` (the layered extraction of one article page), ``listings`` (home
and listing pages), ``textdump`` (old plain-text dumps), ``crash`` (an exception while making a
record becomes a reject). Which article a URL is, is crawler/site/'s; cleaning and normalising
what was read is crawler/normalise/'s job.
"""
