# urna — the two commands that matter: `make demo` and `make test`.
CARGO ?= cargo
DEMO_VOTERS ?= 1000

.PHONY: demo test lint fmt bench unit doc clean loadtest manifests

## Run a whole verifiable election on this machine.
demo:
	$(CARGO) run --release --locked -p urna-cli --bin urna -- demo --voters $(DEMO_VOTERS)

## Casting under load (urna-loadtest, release build): a short open-loop scenario
## against `urna dev` (embedded), then PostgreSQL + Redis with 2 casting replicas when
## reachable; then auth and board reads on the embedded store. RATE, RAMP_SECS,
## HOLD_SECS, PG_RATE, AUTH_RATE, READ_RATE tune it (loadtest/run.sh).
loadtest:
	CARGO="$(CARGO)" loadtest/run.sh

## Formatting, lints and every test (what CI runs).
test: lint unit

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	scripts/check-manifests.sh

## The deployment files (k8s/, deploy/): kustomize renders, Kubernetes and
## compose-spec schemas, systemd-analyze, urna.yaml keys (scripts/check-manifests.sh;
## its tools are installed once from PyPI into ~/.cache/urna-manifests).
manifests:
	scripts/check-manifests.sh

## The tests get PostgreSQL and Redis from scripts/test-services.sh (throwaway
## instances when none is reachable; CI=true fails the run without them), through
## URNA_TEST_POSTGRES and URNA_TEST_REDIS; it stops what it started afterwards.
unit:
	@services=$$(mktemp); \
	scripts/test-services.sh start >"$$services" || { rm -f "$$services"; exit 1; }; \
	. "$$services"; rm -f "$$services"; \
	status=0; \
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --locked --workspace --no-fail-fast || status=$$?; \
	else \
		$(CARGO) test --locked --workspace --lib --bins --tests --examples || status=$$?; \
	fi; \
	$(CARGO) test --locked --workspace --doc || status=$$?; \
	scripts/test-services.sh stop; \
	exit $$status

fmt:
	$(CARGO) fmt --all

## Criterion benchmarks; numbers go to docs/performance.md.
bench:
	$(CARGO) bench --locked --workspace

doc:
	$(CARGO) doc --workspace --no-deps

clean:
	$(CARGO) clean
