# Fresh Debian 12 machine to a running or tested Flint, in one command each:
#   make start   install what is missing, then run Flint (`npm start`)
#   make test    install what is missing, then run every check (`npm test`)
#   make deps    only install what is missing
# Needs Node.js 20.19+ with npm; uses sudo for apt-get unless run as root.

# System packages: libsecret + gnome-keyring + dbus for the OS keychain (keytar builds
# against libsecret with node-gyp, hence build-essential and python3); Debian's Chromium
# for the browser tests (Playwright drives it: its own browser download cannot work here).
APT_PACKAGES := libsecret-1-dev gnome-keyring dbus dbus-x11 build-essential python3 chromium

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Rebuilt when package-lock.json is newer than the last `npm ci`.
STAMP := node_modules/.flint-stamp

.PHONY: start test deps apt-deps node-deps check-node

# Headless for now: `flint serve` on the default data dir, loopback port 8787 (with a
# keyring of its own where there is no desktop session: scripts/start.sh). Where
# Electron can be fetched, the desktop app (main/shell) replaces this.
start: deps
	bash scripts/start.sh

test: deps
	npm test

deps: apt-deps node-deps

apt-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
	  echo "System packages: all present"; \
	fi

node-deps: check-node $(STAMP)

check-node:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "Node.js 20.19+ with npm is required (https://nodejs.org or Debian's nodejs)"; exit 1; }

$(STAMP): $(wildcard package-lock.json)
	@if [ -f package-lock.json ]; then npm ci; else npm install; fi
	@touch $@
