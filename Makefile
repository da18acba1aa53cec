# urna — the two commands that matter: `make demo` and `make test`.
CARGO ?= cargo
DEMO_VOTERS ?= 1000

.PHONY: demo test lint fmt bench unit doc clean

## Run a whole verifiable election on this machine.
demo:
	$(CARGO) run --release --locked -p urna-cli --bin urna -- demo --voters $(DEMO_VOTERS)

## Formatting, lints and every test (what CI runs).
test: lint unit

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --locked --workspace --no-fail-fast; \
	else \
		$(CARGO) test --locked --workspace --lib --bins --tests --examples; \
	fi
	$(CARGO) test --locked --workspace --doc

fmt:
	$(CARGO) fmt --all

## Criterion benchmarks; numbers go to docs/performance.md.
bench:
	$(CARGO) bench --locked --workspace

doc:
	$(CARGO) doc --workspace --no-deps

clean:
	$(CARGO) clean
