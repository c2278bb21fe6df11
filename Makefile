# Thin wrapper: the task runner is ./dev (works where make is not installed).
.PHONY: run test lint bench chaos migrate audit lock
run test lint bench chaos migrate audit lock:
	./dev $@
