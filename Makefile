# Every target does the set-up it needs: on a fresh machine `make run` or `make test` alone is enough.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run index test eval bench bench-full lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

index: setup
	$(PY) -m bot index

run: setup
	$(PY) -m bot index --if-needed
	$(PY) app.py

test: setup
	$(PY) -m bot index --if-needed
	$(PY) -m pytest
	$(PY) -m eval --no-baseline --bootstrap 200 --out eval/reports/ci  # the committed reports come from `make eval`

eval: setup
	$(PY) -m eval
	$(PY) -m eval --gold eval/heldout-a.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-a
	$(PY) -m eval --gold eval/heldout-b.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-b
	$(PY) -m eval --gold eval/heldout-c.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-c
	$(PY) -m eval --gold eval/heldout-d.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-d

bench: setup
	$(PY) -m eval.bench --max-articles 100

bench-full: setup  # adds the 1,000-article corpus: about 45 minutes of embedding on 2 cores
	$(PY) -m eval.bench

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) index/CURRENT index/2* index/.tmp-* index/.lock
