# The two commands a fresh machine needs: `make demo` (the whole stack) and `make test`.
PY := .venv/bin/python
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: deps test test-unit lint format demo demo-stop bench clean

deps:
	scripts/install-deps.sh

test: deps lint
	$(PY) -m pytest -q

test-unit: deps
	$(PY) -m pytest -q -m "not integration"

lint: deps
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

format: deps
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

demo: deps
	$(PY) -m devstack.demo up

demo-stop:
	$(PY) -m devstack.demo down

bench: deps
	$(PY) -m bench

clean:
	rm -rf .venv run logs .pytest_cache .hypothesis
