# The README's two commands: `make run` and `make test`.
# Both install the Debian packages they need first (as root), then build
# with CMake.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

PKGS = cmake make pkg-config gcc clang libclang-rt-14-dev \
	libuv1-dev libsodium-dev libpcre2-dev libinih-dev libjansson-dev \
	libhttp-parser-dev libcmocka-dev curl socat python3 git time strace \
	libcurl4-openssl-dev openssl

.PHONY: all deps build run test clean

all: build

deps:
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "hush: installing:" $$missing; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $$missing >/dev/null || exit 1; \
		else \
			echo "hush: missing Debian packages; run:" >&2; \
			echo "  sudo apt-get install -y $$missing" >&2; \
			exit 1; \
		fi; \
	fi

build: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/release -j $(JOBS) -- --no-print-directory

run: build
	sh contrib/demo/run.sh $(BUILD)/release

test: deps
	CC=clang cmake -S . -B $(BUILD)/test -DCMAKE_BUILD_TYPE=Debug \
		-DHUSH_SANITIZE=ON -DHUSH_FUZZ=ON -DHUSH_WERROR=ON >/dev/null
	cmake --build $(BUILD)/test -j $(JOBS) -- --no-print-directory
	cd $(BUILD)/test && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
