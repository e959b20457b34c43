# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := mosquitto mosquitto-clients influxdb postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint unit integration bench system-packages clean translations

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages for the real servers the integration tests start privately, the browser the
# console's tests drive, Pango for the PDF reports, and a CJK font (Chinese text in the browser
# and in the PDFs, not empty boxes).
system-packages:
	@missing=""; \
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v mosquitto_sub >/dev/null || missing="$$missing mosquitto-clients"; \
	command -v influxd >/dev/null || missing="$$missing influxdb"; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: $(STAMP)
	$(BIN)/facility run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The fast lane: unit tests only, no server started (seconds).
unit: $(STAMP)
	$(BIN)/pytest -q -m "not integration" tests/unit

# Everything that talks to real mosquitto, InfluxDB, PostgreSQL or Chromium.
integration: system-packages $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m integration

# Two workers, a test file each at a time (its fixtures stay in one process): under 15 minutes
# on 2 cores.
test: system-packages $(STAMP) lint
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: system-packages $(STAMP)
	$(BIN)/python -m bench.ingest

# The message catalogues (docs/i18n.md): extract every marked message, merge it into each
# language's .po (new ones come in empty, changed ones fuzzy: translate them, then the
# completeness test passes again). The service compiles the .po files itself when it starts.
POT := maintenance/language/messages.pot
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _ -k N_ -k gettext_ -k ngettext_:1,2 -k t \
	  --no-location --sort-output --omit-header -o $(POT) .
	for lang in en zh_CN; do \
	  $(BIN)/pybabel -q update -i $(POT) -d maintenance/language/locales -l $$lang \
	    --no-fuzzy-matching --ignore-obsolete; \
	done

clean:
	rm -rf $(VENV) .state
