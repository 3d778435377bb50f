"""The benchmark of the archiver against reference tools, run by ``make bench`` (``python -m bench``)."""
