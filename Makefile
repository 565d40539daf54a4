# netlabs — every target prints the cargo command it runs: read them to
# learn cargo. `make demo` and `make test` are the two to know.

CARGO ?= cargo

.PHONY: all build demo test fmt clippy bench clean

# `make`: build every program into target/debug/.
all: build

build:
	$(CARGO) build --workspace --bins

# The tour: each server with its client, scripted input, transcript printed,
# then the echo models side by side (a short run of the benchmark).
demo: build
	@for lab in tp5b chapitre-2.2 twisted; do \
		if [ -f demo/$$lab.sh ]; then bash demo/$$lab.sh || exit 1; fi; \
	done
	@printf '\n\033[1m== Les modèles côte à côte (mesure courte ; make bench pour la complète) ==\033[0m\n'
	$(CARGO) bench -q -p echo --bench echo_models -- --only pingpong --clients 1,10,100 --duration 1

# Everything CI checks: formatting, lints, then every test.
test: fmt clippy
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Benchmarks, built with optimisations (they take a few minutes).
bench:
	$(CARGO) bench --workspace

clean:
	$(CARGO) clean
