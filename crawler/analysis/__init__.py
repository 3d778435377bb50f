"""The analysts' side of the archive: derived datasets, a changes feed, a manifest, a report.

Everything here reads the archive (the JSON Lines files are the archive of record) and writes only
derived files: ``export`` (Parquet, CSV or DuckDB with the schema's types), ``changes`` (records
added or updated since a cursor), ``manifest`` (what the archive holds, written after each run) and
``verify`` (files against the manifest, lines against the schema, state against the files; read
only), ``report`` (one self-contained HTML page) with ``promises`` (which articles the sources
say exist, for the report's holes), ``dictionary`` (the data dictionary, generated from the JSON
Schema). ``readonly`` opens the state database without ever writing to it.

pyarrow, duckdb and plotly come with the ``analysis`` extra; only ``export`` (Parquet, DuckDB) and
``report`` import them, when they run, so the crawl and the other commands work without them.
"""
