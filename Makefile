# Nafitha: `make run` starts the kiosk, `make test` installs everything and runs the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= $(CURDIR)/data
# make run opens a normal window; KIOSK_FLAGS= make run gives kiosk mode (fullscreen, no
# cursor, Escape refused; staff exit: 5 taps top corner + PIN).
KIOSK_FLAGS ?= --windowed
# Debian packages: Xvfb for UI tests, Mesa GL + libmtdev for Kivy, zbar for the scanner,
# an Arabic font for screens and paper, libusb for USB printers, Chromium for the display
# board's browser tests (Playwright drives /usr/bin/chromium; never `playwright install`),
# libsane-dev, gcc and python3-dev to build python-sane (document scanners; no wheel);
# systemd (systemd-analyze) and xinit to verify the appliance units (docs/operations.md).
APT_PACKAGES := xvfb xauth libgl1-mesa-dri libegl1 libmtdev1 libzbar0 libusb-1.0-0 fonts-noto-core chromium libsane-dev gcc python3-dev xinit systemd espeak-ng
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages run counter hub test bench clean

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml setup.py
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: setup
	@$(VENV)/bin/nafitha --data "$(DATA)" keys demo >/dev/null  # sign licences without a ceremony
	@if [ -z "$$DISPLAY" ]; then \
	  echo "No DISPLAY: starting the kiosk on a virtual screen (Xvfb)."; \
	  xvfb-run -a -s "-screen 0 1920x1080x24" $(VENV)/bin/nafitha --data "$(DATA)" kiosk $(KIOSK_FLAGS); \
	else \
	  $(VENV)/bin/nafitha --data "$(DATA)" kiosk $(KIOSK_FLAGS); \
	fi

# Demo signing keys and staff in a data directory, once: clerk sara (PIN 1234) and
# supervisor huda (PIN 987654).
demo_staff = $(VENV)/bin/nafitha --data "$(1)" keys demo >/dev/null; \
	$(VENV)/bin/nafitha --data "$(1)" user list --json | grep -q '"sara"' || \
	  NAFITHA_NEW_PIN=1234 $(VENV)/bin/nafitha --data "$(1)" user add sara --role clerk >/dev/null; \
	$(VENV)/bin/nafitha --data "$(1)" user list --json | grep -q '"huda"' || \
	  NAFITHA_NEW_PIN=987654 $(VENV)/bin/nafitha --data "$(1)" user add huda --role supervisor >/dev/null

# The clerk's desk on the same data directory (sign in as sara / 1234 after `make run`'s
# first start; `nafitha user add` creates other accounts).
counter: setup
	@$(call demo_staff,$(DATA))
	@if [ -z "$$DISPLAY" ]; then \
	  echo "No DISPLAY: starting the counter on a virtual screen (Xvfb)."; \
	  xvfb-run -a -s "-screen 0 1920x1080x24" $(VENV)/bin/nafitha --data "$(DATA)" counter; \
	else \
	  $(VENV)/bin/nafitha --data "$(DATA)" counter; \
	fi

# A service centre's hub on ./data-hub (docs/hub.md): the same demo accounts; pair devices
# with `nafitha --data data-hub hub pair kiosk kiosk-1` (devices join https://localhost:8470);
# the board is http://localhost:8471/board.
HUB_DATA ?= $(CURDIR)/data-hub
hub: setup
	@$(call demo_staff,$(HUB_DATA))
	$(VENV)/bin/nafitha --data "$(HUB_DATA)" hub serve

test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=25  # two workers (tests/conftest.py groups them); the 25 slowest at the end: the suite must stay under 30 min

bench: setup
	$(PY) bench/store.py
	$(PY) bench/credentials.py
	$(PY) bench/pins.py
	$(PY) bench/printing.py
	$(PY) bench/scanning.py
	$(PY) bench/sync.py
	$(PY) bench/console.py
	$(PY) bench/national.py
	$(PY) bench/kiosk.py
	$(PY) bench/counter.py
	$(PY) bench/hub.py
	$(PY) bench/phone.py
	$(PY) bench/server_limits.py
	$(PY) bench/reports.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
