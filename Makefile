# netlabs — every target prints the cargo command it runs: read them to
# learn cargo. `make demo` and `make test` are the two to know.

CARGO ?= cargo

.PHONY: all build demo test fmt clippy bench clean

# `make`: build every program into target/debug/.
all: build

build:
	$(CARGO) build --workspace --bins

# The tour: each server with its client, scripted input, transcript printed,
# then the echo models side by side: compare, built with optimisations (the
# numbers of a debug build mean nothing), a short ladder, a second a step.
demo: build
	@for lab in tp5b chapitre-2.2 twisted; do \
		if [ -f demo/$$lab.sh ]; then bash demo/$$lab.sh || exit 1; fi; \
	done
	@printf '\n\033[1m== Les modèles côte à côte : compare (mesure courte ; sans options pour la complète) ==\033[0m\n'
	$(CARGO) build --release --workspace --bins
	target/release/compare --clients 1,10,100 --duration 1
	@printf '\nLes images : target/compare/compare.svg et target/compare/attente.svg (ouvrez-les dans un navigateur).\n'

# Everything CI checks: formatting, lints, then every test.
test: fmt clippy
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Benchmarks, built with optimisations (they take a few minutes): the echo
# models (compare's table, then 10 000 idle connections and a bulk transfer),
# and the primality tests.
bench:
	$(CARGO) bench --workspace

clean:
	$(CARGO) clean
