# netlabs — every target prints the cargo command it runs: read them to
# learn cargo. `make demo` and `make test` are the two to know.

CARGO ?= cargo

# Every crate but the workshop, `crates/atelier`: the project's checks
# never look at a student's programs, so an untidy one cannot turn `make
# test` red. `make atelier` checks them, alone.
PACKAGES := $(sort $(filter-out atelier,$(notdir $(wildcard crates/*))))

# Where a test that checked nothing here (a tool missing) writes why;
# `make test` counts and shows them at the end.
export NETLABS_SKIPS := $(CURDIR)/target/skips.txt

.PHONY: all build demo test fmt clippy atelier bench clean

# `make`: build every program into target/debug/.
all: build

build:
	$(CARGO) build --workspace --exclude atelier --bins

# The tour: each server with its client, scripted input, transcript printed,
# then the echo models side by side: compare, built with optimisations (the
# numbers of a debug build mean nothing), a short ladder, a second a step.
demo: build
	@for lab in tp5b chapitre-2.2 twisted; do \
		if [ -f demo/$$lab.sh ]; then bash demo/$$lab.sh || exit 1; fi; \
	done
	@printf '\n\033[1m== Les modèles côte à côte : compare (mesure courte ; sans options pour la complète) ==\033[0m\n'
	$(CARGO) build --release --workspace --exclude atelier --bins
	target/release/compare --clients 1,10,100 --duration 1
	@printf '\nLes images : target/compare/compare.svg et target/compare/attente.svg (ouvrez-les dans un navigateur).\n'

# Everything CI checks: formatting, lints, then every test; at the end, the
# tests skipped on this machine and why (NETLABS_STRICT=1 makes a skip fail).
test: fmt clippy
	@mkdir -p target && rm -f $(NETLABS_SKIPS)
	@echo '$(CARGO) test --workspace --exclude atelier'
	@$(CARGO) test --workspace --exclude atelier; status=$$?; \
	n=$$(sort -u $(NETLABS_SKIPS) 2>/dev/null | wc -l); \
	if [ $$n -eq 0 ]; then echo 'Aucun test ignoré.'; \
	else \
		if [ $$n -eq 1 ]; then echo '1 test ignoré (en tout ou en partie) :'; \
		else echo "$$n tests ignorés (en tout ou en partie) :"; fi; \
		sort $(NETLABS_SKIPS) | uniq -c | sed 's/^ *1 \(.*\)/  \1/; t; s/^ *\([0-9][0-9]*\) \(.*\)/  \2 (\1 fois)/'; \
	fi; \
	exit $$status

fmt:
	$(CARGO) fmt $(addprefix -p ,$(PACKAGES)) -- --check

clippy:
	$(CARGO) clippy --workspace --exclude atelier --all-targets -- -D warnings

# The workshop alone: build the student's programs, then clippy's advice
# and the formatting `cargo fmt -p atelier` would apply: shown, not fatal.
atelier:
	$(CARGO) build -p atelier --bins
	$(CARGO) clippy -p atelier --all-targets
	-$(CARGO) fmt -p atelier -- --check

# Benchmarks, built with optimisations (they take a few minutes): the echo
# models (compare's table, then 10 000 idle connections and a bulk transfer),
# and the primality tests.
bench:
	$(CARGO) bench --workspace --exclude atelier

clean:
	$(CARGO) clean
