"""Development sets for extraction beyond our own site: loaders, split, scoring (issue 20).

``python -m bench.devsets`` scores ours, trafilatura and readability-lxml on the development
parts of every set whose data is present (bench/README.md, "Development sets").
"""
