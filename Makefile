# sesame's build, test and demo entry points. `make test` installs what the
# tests need on a fresh Debian machine (root or sudo) and runs every test.

SHELL      := /bin/bash
KEYRING    := scripts/keyring-session
GO         ?= go
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS   := chromium gnome-keyring dbus-daemon dbus-bin openssl
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := .cache/bin/golangci-lint

.PHONY: all build install uninstall test unit deps deps-apt deps-npm check lint cross release-check man fuzz demo demo-server bench bench-keychain kubelogin clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o sesame ./cmd/sesame

# sesame, the docker-credential-sesame link docker runs, the man pages and
# the bash, zsh and fish completions, under PREFIX (DESTDIR for packaging).
# setup writes the installed path into git's and kubectl's configuration,
# so it stays valid when the checkout is cleaned. Without root:
# make install PREFIX=~/.local (its bin must be on PATH).
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(DESTDIR)$(PREFIX)/bin
MANDIR  := $(DESTDIR)$(PREFIX)/share/man/man1
BASH_COMPLETION_DIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR  := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISH_COMPLETION_DIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
install: build man
	install -d '$(BINDIR)' '$(MANDIR)' '$(BASH_COMPLETION_DIR)' '$(ZSH_COMPLETION_DIR)' '$(FISH_COMPLETION_DIR)'
	install -m 0755 sesame '$(BINDIR)/sesame'
	ln -sfn sesame '$(BINDIR)/docker-credential-sesame'
	install -m 0644 man/*.1 '$(MANDIR)/'
	./sesame completion bash >'$(BASH_COMPLETION_DIR)/sesame'
	./sesame completion zsh >'$(ZSH_COMPLETION_DIR)/_sesame'
	./sesame completion fish >'$(FISH_COMPLETION_DIR)/sesame.fish'
	@echo "installed $(BINDIR)/sesame; check: command -v sesame docker-credential-sesame"

uninstall:
	rm -f '$(BINDIR)/sesame' '$(BINDIR)/docker-credential-sesame' '$(MANDIR)'/sesame.1 '$(MANDIR)'/sesame-*.1 \
	  '$(BASH_COMPLETION_DIR)/sesame' '$(ZSH_COMPLETION_DIR)/_sesame' '$(FISH_COMPLETION_DIR)/sesame.fish'

# Debian packages for the end-to-end tests: a real browser and a real
# Secret Service. apt-get update runs only when something is missing.
deps-apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The test authorization server (panva's oidc-provider), pinned by its lockfile.
deps-npm:
	cd e2e/server && npm ci --no-audit --no-fund --loglevel=error

deps: deps-apt deps-npm

# Static checks: golangci-lint (pinned), formatting, vet, the bans of
# requirements 7, 10 and 21 (SECURITY.md), and the module checksums.
check: lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	@bad=$$(grep -rl --include='*.go' -e 'InsecureSkipVerify' -e '"math/rand' . | grep -v '_test\.go$$' || true); \
	if [ -n "$$bad" ]; then echo "InsecureSkipVerify or math/rand outside tests: $$bad"; exit 1; fi
	@pw=$$(grep -rl --include='*.go' -e 'ReadPassword' -e 'gopass' . | grep -v '_test\.go$$' || true); \
	if [ -n "$$pw" ]; then echo "a terminal password reader (requirement 10: never ask for the user's password): $$pw"; exit 1; fi
	$(GO) mod verify

# golangci-lint with the linters of .golangci.yml (staticcheck among them).
# It is installed into .cache/bin through the Go module proxy on first use,
# and again only when GOLANGCI_LINT_VERSION changes.
lint:
	@have=$$($(GO) version -m $(GOLANGCI_LINT) 2>/dev/null | awk '$$1 == "mod" { print $$3; exit }'); \
	if [ "$$have" != "$(GOLANGCI_LINT_VERSION)" ]; then \
	  echo "lint: installing golangci-lint $(GOLANGCI_LINT_VERSION) into .cache/bin (had: $${have:-none})"; \
	  GOBIN=$(CURDIR)/.cache/bin GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi
	$(GOLANGCI_LINT) run ./...

# The six release targets (linux, darwin, windows x amd64, arm64) build,
# and the non-Linux build-tagged files pass vet.
cross:
	GO='$(GO)' bash scripts/cross-compile.sh

# goreleaser v2.16.0 (installed into .cache/bin): check the config and build
# every target as a snapshot, offline.
release-check:
	GO='$(GO)' bash scripts/release-check.sh

# Every fuzz target for a minute each (about 15 minutes in all).
fuzz:
	FUZZTIME=60s GO='$(GO)' bash scripts/fuzz.sh

# Man pages for every command, from the command tree, into man/.
man:
	$(GO) run -tags man ./cmd/sesame __man man/

# Unit and in-process tests only: no browser, no keychain, no node.
# GORACE=atexit_sleep_ms=0: a race-built binary otherwise waits a second at
# exit (for racing goroutines to report), in every test binary and in every
# sesame process the tests start; a race found still fails the run.
unit:
	GORACE=atexit_sleep_ms=0 $(GO) test -race -count=1 ./...

# Everything: static checks, the cross-compile, unit and in-process tests,
# real-keychain tests, the end-to-end tests against oidc-provider with
# headless Chromium, and every fuzz target for two seconds.
test: deps check cross
	$(KEYRING) env SESAME_E2E=1 SESAME_REAL_KEYRING=1 GORACE=atexit_sleep_ms=0 $(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -tags man -run Man ./cmd/sesame/
	FUZZTIME=2s GO='$(GO)' bash scripts/fuzz.sh

# The warm helper calls (a fresh token cached: sesame's hot path) as whole
# processes: sesame built as the release is, signed in to oidc-provider,
# interleaved with a static Go hello-world and, with KUBELOGIN=path,
# kubelogin's get-token; a table of medians, ratios and peak memory
# (e2e/warm_bench_test.go). Then 50 callers on an expired token.
# BASELINE=path adds the helper calls of another sesame binary (a build of
# an earlier commit) to the same rounds.
BENCH_ROUNDS ?= 100
KUBELOGIN ?=
BASELINE ?=
bench: deps
	$(KEYRING) env SESAME_E2E=1 SESAME_REAL_KEYRING=1 SESAME_BENCH_KUBELOGIN='$(if $(KUBELOGIN),$(abspath $(KUBELOGIN)))' \
	  SESAME_BENCH_BASELINE='$(if $(BASELINE),$(abspath $(BASELINE)))' \
	  $(GO) test -count=1 -timeout 30m -run '^$$' -bench WarmHelpers -benchtime $(BENCH_ROUNDS)x ./e2e/
	$(KEYRING) env SESAME_E2E=1 SESAME_REAL_KEYRING=1 \
	  $(GO) test -count=1 -timeout 30m -run '^$$' -bench ParallelRefresh -benchtime 10x ./e2e/

# The keychain's own operations against a real Secret Service.
bench-keychain: build
	$(KEYRING) env SESAME_REAL_KEYRING=1 $(GO) test -run '^$$' -bench . -benchtime 20x ./keychain/

# kubelogin, for `make bench KUBELOGIN=.cache/bin/kubelogin`: built from the
# Go module proxy as its release is (static, stripped). Not `go install`,
# which also asks the proxy for the module's version list.
KUBELOGIN_VERSION := v1.35.2
kubelogin:
	@dir=$$(GOFLAGS= $(GO) mod download -json github.com/int128/kubelogin@$(KUBELOGIN_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	test -n "$$dir" || { echo "kubelogin: cannot download github.com/int128/kubelogin@$(KUBELOGIN_VERSION)" >&2; exit 1; }; \
	cd "$$dir" && CGO_ENABLED=0 GOFLAGS= $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/.cache/bin/kubelogin .

clean:
	rm -rf sesame dist bin completions man

# A real login against the bundled test authorization server, from a fresh
# clone: builds sesame, starts oidc-provider with a local CA, signs in (the
# system browser when there is a display, else headless chromium), shows
# status and the token's shape, then logs out.
demo:
	GO='$(GO)' bash scripts/demo.sh

# The same test server alone, kept running until Ctrl-C, to try sesame by
# hand: it prints the issuer, the CA file, the client id and a `sesame
# login` line to paste. PORT=n fixes its port (default: any free one).
PORT ?= 0
demo-server:
	DEMO_PORT='$(PORT)' bash scripts/demo.sh --server-only
