# Thin wrapper: the task runner is ./dev (works where make is not installed).
.PHONY: run test lint bench migrate
run test lint bench migrate:
	./dev $@
