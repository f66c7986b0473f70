# Thin wrappers over scripts/; see README.md.
# Extra pytest arguments: make test ARGS="-k eta -x"
ARGS ?=
# Mutation testing (docs/testing.md): make mutate MODULES="promises ripple" (planning; empty: all),
# make mutate TARGET=moves|booking|doors [MODULES="mutant-name globs"] (database-backed code)
MODULES ?=
TARGET ?= planning
# Benchmark arguments: make bench BENCH_ARGS="--quick --runs 10" (see bench/README.md)
BENCH_ARGS ?=

.PHONY: run test test-pgbouncer lint fmt bench soak mutate

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

# A slice of the suite through PgBouncer in transaction mode (docs/scaling.md):
# make test-pgbouncer ARGS="tests/dispatch/test_views.py"
test-pgbouncer:
	bash scripts/pgbouncer_check.sh $(ARGS)

lint:
	bash scripts/lint.sh

fmt:
	bash scripts/fmt.sh

bench:
	.venv/bin/python bench/run.py $(BENCH_ARGS)

soak:
	.venv/bin/python bench/soak.py $(BENCH_ARGS)

mutate:
	TARGET=$(TARGET) bash scripts/mutate.sh $(MODULES)
