# The README's two commands: `make run` and `make test`; also `make
# install`, `make deb`, `make static-client` and `make test-system`.
# Each installs the Debian packages it needs first (as root), then builds
# with CMake.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

PKGS = cmake make pkg-config gcc clang libclang-rt-14-dev \
	libuv1-dev libsodium-dev libpcre2-dev libjansson-dev \
	libhttp-parser-dev libcmocka-dev libvectorscan-dev curl socat python3 \
	git time rsyslog strace libcurl4-openssl-dev openssl

# `make deb` and `make test-system` only: packaging tools, and what boots
# and checks the package in a container.
DEB_PKGS = build-essential debhelper dpkg-dev lintian
SYSTEM_PKGS = $(DEB_PKGS) debootstrap systemd-container procps
# The container tests: podman (vfs, cgroupfs, runc) and compose 1.29
# talking to podman's Docker API.
SYSTEM_PKGS += podman runc docker-compose

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build run test clean install static-client deb \
	deps-deb deps-system deps-npm deps-npm-deb test-system

all: build

# $(call apt-need,PACKAGES): install what is missing, or say what to run.
define apt-need
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "hush: installing:" $$missing; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				-o DPkg::Lock::Timeout=600 \
				--no-install-recommends $$missing >/dev/null || exit 1; \
		else \
			echo "hush: missing Debian packages; run:" >&2; \
			echo "  sudo apt-get install -y $$missing" >&2; \
			exit 1; \
		fi; \
	fi
endef

deps:
	$(call apt-need,$(PKGS))

deps-deb: deps
	$(call apt-need,$(DEB_PKGS))

# The agent tests run the real Claude Code and Codex from npm: a machine
# with a Node.js of its own keeps it, one without gets Debian's npm.
deps-npm:
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory deps-npm-deb

deps-npm-deb:
	$(call apt-need,npm)

deps-system: deps
	$(call apt-need,$(SYSTEM_PKGS))

build: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS) -- --no-print-directory

run: build
	sh contrib/demo/run.sh $(BUILD)/release

test: deps deps-npm
	CC=clang cmake -S . -B $(BUILD)/test -DCMAKE_BUILD_TYPE=Debug \
		-DHUSH_SANITIZE=ON -DHUSH_FUZZ=ON -DHUSH_WERROR=ON >/dev/null
	cmake --build $(BUILD)/test -j $(JOBS) -- --no-print-directory
	cd $(BUILD)/test && ctest --output-on-failure -j $(JOBS)

install: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS) -- --no-print-directory
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/release

# Only the client, linked against Debian's static libraries: it runs in a
# container that holds nothing else. Its exec redaction takes the PCRE2
# path (the same output, docs/redact.md): Vectorscan's static library is
# C++ and would bring libstdc++ into a binary that only redacts a child's
# output.
static-client: deps
	cmake -S . -B $(BUILD)/static -DHUSH_STATIC_CLIENT=ON \
		-DHUSH_VECTORSCAN=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)/static -j $(JOBS) --target hush -- \
		--no-print-directory
	strip $(BUILD)/static/hush
	@if readelf -d $(BUILD)/static/hush | grep -q NEEDED; then \
		echo "hush: $(BUILD)/static/hush needs shared libraries" >&2; \
		exit 1; fi

# dpkg-buildpackage on a copy of the tree (it writes next to its source),
# packaging from contrib/debian; the .deb lands in $(BUILD)/deb/.
deb: deps-deb
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/src
	tar -c --exclude=./$(BUILD) --exclude=./.git . | tar -x -C $(BUILD)/deb/src
	cp -r contrib/debian $(BUILD)/deb/src/debian
	cd $(BUILD)/deb/src && dpkg-buildpackage -b -us -uc -j$(JOBS) \
		>../build.log 2>&1 || { tail -n 40 ../build.log >&2; exit 1; }
	rm -rf $(BUILD)/deb/src
	lintian --fail-on error $(BUILD)/deb/*.changes
	@ls $(BUILD)/deb/*.deb

# The package booted under systemd and the static client in containers:
# tests/system/run.sh runs every tests/system/*.sh.
# The cached root is built while the package compiles (its failure, if
# any, is reported by the test that needs it).
test-system: deps-system
	@mkdir -p $(BUILD)/system
	bash tests/system/hushd_systemd_units.sh --prepare \
		>$(BUILD)/system/prepare.log 2>&1 & \
	$(MAKE) --no-print-directory deb static-client; rc=$$?; wait; \
	[ $$rc = 0 ]
	HUSH_SRC=$(CURDIR) HUSH_BUILD=$(CURDIR)/$(BUILD) bash tests/system/run.sh

clean:
	rm -rf $(BUILD)
