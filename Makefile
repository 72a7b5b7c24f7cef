# make run: set up .venv if needed, then open Curator on the embedded SQLite demo project.
# make test: same set-up, then ruff, the import contracts, the core and CLI tests with Qt
# blocked (they must not need it), then the GUI tests (what CI runs through .ci/run).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROJECT ?= demo-project
MEDIA ?= ../shared/media
STAMP := $(VENV)/.installed

.PHONY: run test setup lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[vlm,shots,test]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	@if [ ! -f "$(PROJECT)/curator.db" ] && [ -d "$(MEDIA)" ]; then \
		echo "First run: ingesting the sample footage in $(MEDIA) into $(PROJECT)/"; \
		$(PY) main.py --project "$(PROJECT)" ingest --analyze "$(MEDIA)" || true; \
	fi
	$(PY) main.py --project "$(PROJECT)"

lint: $(STAMP)
	$(VENV)/bin/ruff check curator tests bench main.py
	$(VENV)/bin/lint-imports

# The core and CLI tests run once, with Qt blocked; the rest (the GUI) runs after them.
test: lint
	$(PY) -m pytest -q -p no:cacheprovider -p tests.no_qt -p no:pytest-qt \
		-W ignore::pytest.PytestConfigWarning tests/core tests/cli
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider \
		--ignore=tests/core --ignore=tests/cli

bench: $(STAMP)
	for script in bench/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(PROJECT) build *.egg-info
