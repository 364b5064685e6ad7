# `make course` and `make test` build the environment first when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?=
RUN ?=
# What the book serves itself (never a CDN): MathJax, pinned by tools/book/package-lock.json, installed with npm.
BOOK_ASSETS := $(VENV)/share/ganutils-book
MATHJAX := $(BOOK_ASSETS)/node_modules/mathjax/es5/tex-chtml-full.js

.PHONY: env fashion course test lab bench bench-course clean-runs book mathjax

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed (torch 2.14.1 wheels): run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

course: $(STAMP) fashion
	$(PY) -m ganutils course $(if $(PROFILE),--profile $(PROFILE))

test: $(STAMP) fashion
	@$(MAKE) --no-print-directory mathjax || echo "(no MathJax: tests/test_book.py skips unless GANUTILS_REQUIRE_BROWSER=1)"
	$(VENV)/bin/lint-imports
	GANUTILS_OFFLINE=1 GANUTILS_PROFILE=smoke $(PY) -m pytest

# Fashion-MNIST (notebooks 08 and 09) from the first source that holds it; on a machine with neither
# data/FashionMNIST nor the Debian package dataset-fashion-mnist, one torchvision download when the network allows.
fashion: $(STAMP)
	@env -u GANUTILS_OFFLINE $(PY) -c "from ganutils.data import fashion; print('Fashion-MNIST:', fashion.fashion_source())" \
		|| echo "(no Fashion-MNIST: notebooks 08 and 09 will say how to get it; see README, Data)"

# `make book`: runs/latest (or RUN=folder) as an offline static site, <run>/book/index.html
book: $(STAMP) $(MATHJAX)
	$(PY) -m ganutils book $(if $(RUN),--run $(RUN))

mathjax: $(MATHJAX)

$(MATHJAX): tools/book/package.json tools/book/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: it installs the pinned MathJax the book serves (Debian: apt-get install -y npm)"; exit 1; }
	mkdir -p $(BOOK_ASSETS)
	cp tools/book/package.json tools/book/package-lock.json $(BOOK_ASSETS)/
	cd $(BOOK_ASSETS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) bench/bench_train_loop.py
	$(PY) bench/bench_channels_last.py
	$(PY) bench/bench_evalnet.py
	$(PY) bench/bench_toy.py
	$(PY) bench/bench_wgan.py
	$(PY) bench/bench_vae.py
	$(PY) bench/bench_pix2pix.py
	$(PY) bench/bench_sweep.py

bench-course: $(STAMP)  # the whole course in quick, each notebook against its 300 s budget (tens of minutes)
	GANUTILS_OFFLINE=1 $(PY) bench/bench_course.py

clean-runs:
	rm -rf runs/
