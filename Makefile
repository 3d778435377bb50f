# One entry point for humans and CI. Every target creates the virtualenv it needs.
# A target's "## ..." comment is its line in `make help`; a bare `make` prints that help.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The demo's port on 127.0.0.1: make demo PORT=8090 when 8089 is taken (0 picks a free one).
PORT   ?= 8089
# make test's processes (pytest-xdist). A test file stays in one process (--dist loadfile): the
# README examples of tests/test_readme.py run in order, the later ones using the demo's archive.
TEST_PROCESSES ?= 2
PIP_INSTALL = $(PY) -m pip install --quiet $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))

.DEFAULT_GOAL := help
.PHONY: help install install-crawler install-analysis install-test test demo bench bench-scale lint \
	clean

help: ## list the targets, one line each
	@echo "make targets (each creates $(VENV)/ and installs the project first when needed):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1|\2/' \
		| awk -F'|' '{ printf "%-19s %s\n", $$1, $$2 }'

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Each part of the install has its own stamp, so that a lean machine installs only its part.
$(VENV)/.installed-crawler: pyproject.toml | $(VENV)/pyvenv.cfg
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.installed-crawler
	$(PIP_INSTALL) -e '.[$*]'
	touch $@

$(STAMP): pyproject.toml | $(VENV)/pyvenv.cfg
	$(PIP_INSTALL) -e '.[test,analysis]'
	touch $(VENV)/.installed-crawler $(VENV)/.installed-test $(VENV)/.installed-analysis $(STAMP)

install: $(STAMP) ## create .venv/ and install the project with its test tools and the analysis extra
	@echo "installed into $(VENV)/"

install-crawler: $(VENV)/.installed-crawler ## the crawler alone, what a cron box needs (scrapy crawl, extract, reextract, changes, verify)
	@echo "installed the crawler into $(VENV)/"

install-analysis: $(VENV)/.installed-analysis ## the crawler and the analysis extra (export to Parquet/DuckDB, report)
	@echo "installed the crawler and the analysis extra into $(VENV)/"

install-test: $(VENV)/.installed-test ## the crawler and the test tools (pytest, Playwright, Scrapyd)
	@echo "installed the crawler and the test tools into $(VENV)/"

test: $(STAMP) ## run the whole test suite (README examples included), nothing touches the internet
	$(PY) -m pytest -q -n $(TEST_PROCESSES) --dist loadfile

# The main job on a machine that cannot reach the site: replica up, nightly crawl, a summary.
demo: $(STAMP) ## the main job: a nightly crawl of a local replica of the site (PORT=8089), then a summary
	$(PY) -m tests.replica.demo --port $(PORT)

lint: $(STAMP) ## ruff over the whole repository
	$(PY) -m pip install --quiet ruff
	$(VENV)/bin/ruff check .

# The benchmark (bench/README.md): its extra is empty since trafilatura and readability-lxml
# became the generic layers' voters (main dependencies); the target is kept for its stamp.
BENCH_STAMP = $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PIP_INSTALL) -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## the benchmark against reference tools (about ten minutes)
	$(PY) -m bench

# On demand, not part of `make bench`: the archive at the paper's size (bench/README.md).
bench-scale: $(STAMP) ## 25,000 against 250,000 articles: memory and time of every operation (about 70 minutes)
	$(PY) -m bench.scale

clean: ## remove .venv/ and build leftovers (archives and demo output stay)
	rm -rf $(VENV) .pytest_cache build *.egg-info
