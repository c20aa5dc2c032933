# The two commands a newcomer needs:
#   make dev    run the whole system locally (every route, consumers, schedules)
#   make test   run every check CI runs (format, lint, build, tests, template checks)

VENV     ?= .venv
PY_REQS  := .ci/requirements.txt
CARGO    ?= cargo
ARGS     ?=
export SAM_CLI_TELEMETRY = 0

.PHONY: faults faults-ci soak dev test venv postgres docs-assets docs dashboard-deps dashboard dashboard-check zapier-deps example-runtimes chromium fmt lint build unit-and-integration template migrate clean-venv

dev: postgres docs dashboard
	$(CARGO) run -p pm-local --bin pm-local -- serve $(ARGS)

migrate: postgres
	$(CARGO) run -p pm-local --bin pm-local -- migrate

# The fault-injection suite (infra/faults): ARGS=--quick for the short one.
faults: venv postgres
	$(CARGO) build -p pm-local -p pm-faults
	PM_VENV=$(abspath $(VENV)) target/debug/pm-faults $(ARGS)

# The reduced suite `make test` runs: the quick settings, a fault of every peer (two of
# PostgreSQL and of the secrets store, whose failures differ in kind). `make faults` adds
# the receiver that hangs or is slow and the SMTP server unreachable, which the webhook
# and email integration tests cover in part.
CI_FAULTS := postgres-restarted,postgres-unreachable,secrets-stopped,secrets-slow,kv-stopped,queue-stopped,process-killed,receiver-resets,smtp-stopped
faults-ci: venv postgres
	$(CARGO) build -p pm-local -p pm-faults
	PM_VENV=$(abspath $(VENV)) target/debug/pm-faults --quick --only $(CI_FAULTS) --out target/faults/ci

# The 10-minute soak: the load with faults on a schedule, memory and connections sampled.
soak: venv postgres
	$(CARGO) build -p pm-local -p pm-faults
	PM_VENV=$(abspath $(VENV)) target/debug/pm-faults --soak $(ARGS) --out target/faults/soak

test: venv postgres docs dashboard zapier-deps chromium example-runtimes fmt lint build template dashboard-check unit-and-integration faults-ci

venv: $(VENV)/.installed

$(VENV)/.installed: $(PY_REQS)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(PY_REQS)
	touch $@

postgres:
	infra/scripts/ensure-postgres.sh

# Debian's Chromium for the browser test of /api/docs (installed once, as root or by sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium)

# PHP for the guides' PHP examples, which the tests run (Node.js and Python are needed
# anyway; installed once, as root or by sudo).
example-runtimes:
	@command -v php >/dev/null || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq php-cli)

# Swagger UI's static files, Redocly CLI, marked, openapi-to-postmanv2, newman and
# playwright-core, from npm (installed again when the lockfile changes).
DOCS_ASSETS := docs/api/node_modules/.package-lock.json
docs-assets: $(DOCS_ASSETS)

$(DOCS_ASSETS): docs/api/package-lock.json
	npm ci --prefix docs/api --no-audit --no-fund
	touch $@

# The dashboard (web/): React, its component, chart and form libraries, Vite, Vitest,
# playwright-core and axe-core, from the lockfile (installed again when it changes).
DASHBOARD_DEPS := web/node_modules/.package-lock.json
dashboard-deps: $(DASHBOARD_DEPS)

$(DASHBOARD_DEPS): web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	touch $@

# The built dashboard (web/dist), served under /dashboard; rebuilt when a source changes.
DASHBOARD_SITE := web/dist/index.html
dashboard: $(DASHBOARD_SITE)

$(DASHBOARD_SITE): $(DASHBOARD_DEPS) web/index.html web/vite.config.ts web/tsconfig.json \
                   $(shell find web/src -type f 2>/dev/null)
	npm run --prefix web build

# Type checks and the component tests (Vitest + Testing Library in jsdom). The browser
# tests run inside unit-and-integration, against the running system.
dashboard-check: $(DASHBOARD_DEPS)
	npm run --prefix web typecheck
	npm run --prefix web test

# The Zapier app's packages (zapier-platform-core and -cli; a Node 22 binary on Linux x64).
ZAPIER_DEPS := integrations/zapier/node_modules/.package-lock.json
zapier-deps: $(ZAPIER_DEPS)

$(ZAPIER_DEPS): integrations/zapier/package-lock.json
	npm ci --prefix integrations/zapier --no-audit --no-fund
	touch $@

# The documentation site (docs/api/dist): reference, guides, Postman collection.
DOCS_SITE := docs/api/dist/api/docs/index.html
docs: $(DOCS_SITE)

$(DOCS_SITE): $(DOCS_ASSETS) openapi.yaml docs/api/build.mjs docs/api/index.html docs/api/init.js \
              docs/api/guides.css $(wildcard docs/guides/*.md docs/examples/*/*)
	node docs/api/build.mjs

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every binary template.yaml names must build (the consistency test checks the names).
build:
	$(CARGO) build --workspace --bins

unit-and-integration: venv postgres
	PM_VENV=$(abspath $(VENV)) infra/scripts/test-summary.sh $(CARGO) test --workspace

template: venv docs
	$(VENV)/bin/openapi-spec-validator openapi.yaml
	docs/api/node_modules/.bin/redocly lint openapi.yaml --format=summary
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1 --template-file template.yaml

clean-venv:
	rm -rf $(VENV)
