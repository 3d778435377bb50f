# One entry point for humans and CI. Every target creates the virtualenv it needs.
# A target's "## ..." comment is its line in `make help`; a bare `make` prints that help.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# The demo's port on 127.0.0.1: make demo PORT=8090 when 8089 is taken (0 picks a free one).
PORT   ?= 8089

.DEFAULT_GOAL := help
.PHONY: help install test demo bench lint clean

help: ## list the targets, one line each
	@echo "make targets (each creates $(VENV)/ and installs the project first when needed):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1|\2/' \
		| awk -F'|' '{ printf "%-10s %s\n", $$1, $$2 }'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,analysis]'
	touch $(STAMP)

install: $(STAMP) ## create .venv/ and install the project with its test tools and the analysis extra
	@echo "installed into $(VENV)/"

test: $(STAMP) ## run the whole test suite (README examples included), nothing touches the internet
	$(PY) -m pytest -q

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
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## the benchmark against reference tools (about ten minutes)
	$(PY) -m bench

clean: ## remove .venv/ and build leftovers (archives and demo output stay)
	rm -rf $(VENV) .pytest_cache build *.egg-info
