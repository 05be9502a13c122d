# Two commands: `make run` serves the dashboard on its embedded SQLite database; `make test` runs
# every test. Both install what they need first; a warm machine skips each install it already has.

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.11
WASM_BINDGEN_VERSION := 0.2.130

.PHONY: run test tools browser lint unit-tests postgres-tests e2e bench

## Serve the dashboard at http://127.0.0.1:3000 with data in data/voicy.db. Builds only what
## changed since the last `make run`: the wasm bundle (wasm-bindgen, wasm-opt) when the client's
## sources did, the server alone when only its own did, nothing on a warm start.
run: tools target/site/.built-release target/release/.built-server
	@mkdir -p data
	@if [ ! -s data/secret.key ]; then (umask 077; head -c 32 /dev/urandom | base64 > data/secret.key); \
		echo "==> created data/secret.key: the key that encrypts webhook secrets and header values in data/voicy.db."; \
		echo "    Keep it with the database: without it they cannot be read, and Voicy will not start."; fi
	@echo "==> starting Voicy at http://127.0.0.1:3000 (database: data/voicy.db; key: data/secret.key; http:// webhooks allowed for local development)"
	env -u VOICY_SECRET_KEY VOICY_DATABASE_URL=sqlite://data/voicy.db VOICY_SECRET_KEY_FILE=data/secret.key VOICY_ALLOW_INSECURE_WEBHOOKS=true \
		VOICY_SITE_ROOT=target/site ./target/release/voicy serve

# What the wasm bundle is compiled from: the app crate (shared with the server), the model crate,
# the frontend, the style and the assets. The core (crates/core), the binary (src/) and the
# migrations are the server's alone: a change there rebuilds the server and nothing else.
CLIENT_SOURCES := $(shell find app frontend crates/model style public -type f 2>/dev/null) Cargo.toml Cargo.lock
SERVER_SOURCES := $(shell find src crates/core migrations -type f 2>/dev/null)

target/site/.built-release: $(CLIENT_SOURCES)
	@echo "==> building the release server and wasm bundle"
	cargo leptos build --release --precompress --split
	@$(MAKE) --no-print-directory regzip
	@touch $@ target/release/.built-server

# cargo-leptos writes .br (best) and .gz (a fast level) beside the bundle; browsers without
# brotli get a gzip -9 instead (544 KB rather than 647 KB for the wasm).
.PHONY: regzip
regzip:
	@for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do [ -e "$$f" ] && gzip -9 -k -f "$$f"; done; true

# The server's own code changed, not the client's: the same build of the server that cargo-leptos
# runs, without the wasm bundle.
target/release/.built-server: $(SERVER_SOURCES) | target/site/.built-release
	@echo "==> building the release server (the wasm bundle is up to date)"
	cargo build --release --package=voicy --bin=voicy --no-default-features
	@touch $@

## Every test: the format and lint gates, Rust unit and integration tests on SQLite, the
## integration suite again on a throwaway PostgreSQL cluster, then Playwright against the real
## server.
test: tools browser lint unit-tests api-document postgres-tests e2e

## rustfmt's layout (rustfmt.toml) and clippy's default lints, warnings as errors, on every
## crate and target (tests and benchmarks included), and on the wasm build, whose code behind
## `hydrate` the server's build does not compile.
lint:
	@echo "==> cargo fmt --check"
	cargo fmt --all -- --check
	@echo "==> cargo clippy (warnings are errors), then again on the browser's build"
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --features hydrate -- -D warnings

tools:
	@for c in rustfmt clippy; do if ! rustup component list --installed | grep -q "^$$c"; then \
		echo "==> adding the $$c component"; rustup component add $$c; fi; done
	@if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then \
		echo "==> adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; fi
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
		echo "==> installing cargo-leptos $(CARGO_LEPTOS_VERSION): first run only, it compiles for about 20 minutes"; \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --ignore-rust-version; fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then \
		echo "==> installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi
	@if [ ! -x node_modules/.bin/wasm-opt ]; then \
		echo "==> installing wasm-opt (npm's binaryen)"; npm ci --no-audit --no-fund; fi

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "==> installing Debian's chromium for the end-to-end tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; fi
	@if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/standardwebhooks ]; then \
		echo "==> installing Playwright (no browser download) and the Standard Webhooks library"; \
		cd end2end && npm ci --no-audit --no-fund; fi

unit-tests:
	@echo "==> cargo test (unit, property and integration tests, on SQLite)"
	cargo test --workspace

# The whole integration suite again on PostgreSQL, then the outage test (it stops the cluster,
# so it runs alone). scripts/with-postgres installs Debian's postgresql when it is missing,
# starts a cluster in a temporary directory on a free port, and removes it afterwards.
## The OpenAPI document through a published validator and a published client generator (PyPI,
## installed under target/ on first use): either one complaining fails the run.
.PHONY: api-document
api-document:
	scripts/check-openapi target/debug/voicy

postgres-tests:
	@echo "==> the integration suite on PostgreSQL"
	scripts/with-postgres sh -c 'cargo test --test api && cargo test --test outage'

# Starts the debug server on a fresh temporary database and a free port, runs Playwright, and
# stops the server whatever the outcome.
e2e:
	@echo "==> building the debug server and wasm bundle"
	@rm -f target/site/.built-release # target/site now holds a debug bundle: `make run` rebuilds
	cargo leptos build --split
	@dir=$$(mktemp -d); port=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	echo "==> end-to-end tests against http://127.0.0.1:$$port (server log: $$dir/server.log)"; \
	VOICY_LISTEN_ADDR=127.0.0.1:$$port VOICY_DATABASE_URL=sqlite://$$dir/e2e.db VOICY_ALLOW_INSECURE_WEBHOOKS=true \
		VOICY_SIGN_UPS_PER_HOUR=1000 VOICY_SECRET_KEY=$$(head -c 32 /dev/urandom | base64) \
		VOICY_SITE_ROOT=target/site ./target/debug/voicy > $$dir/server.log 2>&1 & pid=$$!; \
	(cd end2end && BASE_URL=http://127.0.0.1:$$port npx playwright test); status=$$?; \
	kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; \
	if [ $$status -ne 0 ]; then echo "==> end-to-end tests failed; last server log lines:"; tail -n 40 $$dir/server.log; fi; \
	echo "==> end-to-end summary"; (cd end2end && node failures.mjs) || true; \
	exit $$status

## Benchmarks (release build): criterion micro-benchmarks, then the load benchmark of the real
## server against loopback receivers, each figure beside a baseline from the same run.
bench: tools
	@mkdir -p target/bench
	@echo "==> release build (server and wasm bundle)"
	cargo leptos build --release --precompress --split
	@$(MAKE) --no-print-directory regzip
	@echo "==> micro-benchmarks (criterion)"
	cargo bench --bench micro 2>&1 | tee target/bench/micro.txt
	@echo "==> load benchmark"
	@{ echo "# Results $$(date -u +%FT%TZ), $$(nproc) cores, $$(free -g | awk '/Mem:/{print $$2}') GiB"; \
	  cargo bench --bench load -- --phase main; \
	  scripts/with-postgres sh -c 'BENCH_POSTGRES=$$VOICY_TEST_POSTGRES cargo bench --bench load -- --phase main'; \
	  echo; echo "## End to end through the HTTP API"; echo; \
	  scripts/with-postgres sh -c 'BENCH_POSTGRES=$$VOICY_TEST_POSTGRES cargo bench --bench load -- --phase e2e'; \
	  echo; echo "| dashboard | median of 3 |"; echo "|---|---|"; cargo bench --bench load -- --phase dashboard; \
	  echo; echo "| isolation: 10,000 hanging deliveries | |"; echo "|---|---|"; cargo bench --bench load -- --phase rss; \
	  echo; echo "| sign-in burst | peak RSS | answers |"; echo "|---|---|---|"; cargo bench --bench load -- --phase signins; \
	  echo; scripts/bundle-size; } | tee target/bench/load.md
