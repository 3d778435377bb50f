"""Development sets for extraction beyond our own site: loaders, split, scoring (issue 20).

``python -m bench.devsets`` scores ours, trafilatura and readability-lxml on the development
parts of every set whose data is present (bench/README.md, "Development sets"); ``make bench``
prints the same figures.
"""

from bench.devsets.run import measure
from bench.devsets.sets import DEV, HELD, SETS, load, missing_message

__all__ = ["DEV", "HELD", "SETS", "load", "measure", "missing_message"]
