"""The site's addresses: which article, listing or host a URL is, for both CMS generations.

``urls`` (article URL variants to one id and one canonical URL, listing and channel paths, the
site's host aliases), ``sections`` (the section a listing link names). Pure functions over
strings; every floor above reads URLs through them.
"""
