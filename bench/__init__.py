"""The archiver's benchmark against reference tools: ``make bench`` (``python -m bench``)."""
