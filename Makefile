# `make course` and `make test` build the environment first when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?=

.PHONY: env course test lab bench bench-course clean-runs

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed (torch 2.14.1 wheels): run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

course: $(STAMP)
	$(PY) -m ganutils course $(if $(PROFILE),--profile $(PROFILE))

test: $(STAMP)
	$(VENV)/bin/lint-imports
	GANUTILS_OFFLINE=1 GANUTILS_PROFILE=smoke $(PY) -m pytest

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) bench/bench_train_loop.py
	$(PY) bench/bench_evalnet.py
	$(PY) bench/bench_toy.py
	$(PY) bench/bench_wgan.py
	$(PY) bench/bench_vae.py
	$(PY) bench/bench_pix2pix.py

bench-course: $(STAMP)  # the whole course in quick, each notebook against its 300 s budget (tens of minutes)
	GANUTILS_OFFLINE=1 $(PY) bench/bench_course.py

clean-runs:
	rm -rf runs/
