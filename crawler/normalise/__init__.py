"""Normalising: what the pipelines do to an item's text and dates, as pure functions.

One module per pipeline of the same name in pipelines/: ``text`` (cleaning, comparison keys),
``boilerplate`` (masthead and residue), ``captions`` (one caption per photo), ``bylines``
(authors and source), ``dates`` (the date line to published_date/_at/_precision).
"""
