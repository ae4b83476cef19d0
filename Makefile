# printd — two commands for a new user: `make run` and `make test`.
# Both bootstrap everything they need (virtualenv, Python and Debian packages).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIG ?= config/printd.sim.toml
# Debian packages the tests use: net-snmp tools, socat, libusb, promtool + prometheus,
# amtool, systemd-analyze, shellcheck, strace (the store's durability test), chromium and
# chromedriver (the console's browser tests). Installed only when missing, and only as root.
APT_PACKAGES := snmp socat libusb-1.0-0 prometheus prometheus-alertmanager systemd shellcheck strace \
  chromium chromium-driver
APT_TOOLS := snmpwalk snmpbulkwalk socat promtool prometheus amtool systemd-analyze shellcheck strace \
  chromium chromedriver

.PHONY: run test lint typecheck unit bench soak mutate hil install uninstall examples clean system-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	@touch $(STAMP)

system-deps:
	@missing=""; for t in $(APT_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	ldconfig -p 2>/dev/null | grep -q libusb-1.0 || missing="$$missing libusb"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages for:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	  else \
	    echo "missing tools:$$missing — run as root once, or: sudo apt-get install $(APT_PACKAGES)" >&2; \
	  fi; \
	fi

run: $(STAMP)
	$(BIN)/printd run --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps
	$(BIN)/pytest -q

test: $(STAMP) system-deps lint typecheck unit

bench: $(STAMP) system-deps
	$(BIN)/python bench/run_all.py

soak: $(STAMP) system-deps
	PRINTD_SOAK=full $(BIN)/pytest -q -m slow tests

# Mutation testing of the queue and the Evolis codec's reply handling (docs/testing.md). Slow:
# hours for the whole set on two cores, so never part of `make test`. MUTANTS narrows it, e.g.
# make mutate MUTANTS="'printd.queue.jobs*'"; mutants/ keeps results between runs.
MUTANTS ?= 'printd.queue.*' 'printd.drivers.evolis.codec.x_split_reply*' \
  'printd.drivers.evolis.codec.x_decode_reply*' 'printd.drivers.evolis.codec.x_decode_rst*' \
  'printd.drivers.evolis.codec.x_status_from_rst*'
mutate: $(STAMP) system-deps
	nice -n 10 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python scripts/mutation_report.py

hil: $(STAMP)
ifdef SURVEY
	$(BIN)/python -m hil.survey --printer "$(PRINTER)"
else
	$(BIN)/pytest -q -p no:cacheprovider hil $(if $(PRINTER),--printer "$(PRINTER)") $(if $(STATUS),--status "$(STATUS)") $(if $(ALLOW_CONSUME),--allow-consume $(ALLOW_CONSUME))
endif

install:
	DESTDIR="$(DESTDIR)" bash scripts/install.sh

uninstall:
	DESTDIR="$(DESTDIR)" bash scripts/uninstall.sh

examples: $(STAMP)
	$(BIN)/python scripts/make_examples.py

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache .hypothesis
