# Thin wrappers over scripts/; see README.md.
# Extra pytest arguments: make test ARGS="-k eta -x"
ARGS ?=

.PHONY: run test lint fmt

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/lint.sh

fmt:
	bash scripts/fmt.sh
