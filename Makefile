# kserver - top-level Makefile: it only delegates.
#   make          build build/kserver and build/kserverctl
#   make run      serve www/ on http://127.0.0.1:8080/ (user mode)
#   make test     install what is missing (as root), then run every test
#   make bench    nginx vs kserver user vs supervisor in a 6.12 guest (KVER=
#                 for another kernel; ~50 min) -> loadtest/results/
#   make bench-host  nginx vs kserver user on this machine, loopback
#   make profile  perf profiles of each server under 1 KiB keep-alive load
#                 in a 6.12 guest -> build/profile/
#   make fuzz     libFuzzer on the parser and the handler, FUZZ_SECONDS
#                 in all (default 3600) -> crashes kept in build/fuzz/crashes/
#   make stress   the long hardening suites (~1 h) -> tests/RELIABILITY.md
#   make stress-debug  the VM suites in a KASAN/lockdep/kmemleak 6.12 kernel
#                 (the first run builds it into /var/cache/kserver, ~1 h)

BUILD := $(CURDIR)/build
PORT ?= 8080

all: kserver kserverctl bench-files

kserver:
	$(MAKE) -C kserver BUILD=$(BUILD)

kserverctl:
	$(MAKE) -C ctl BUILD=$(BUILD)

kserver-asan:
	$(MAKE) -C kserver BUILD=$(BUILD) asan

# benchmark docroot: www/ plus large files, generated, never committed
bench-files:
	loadtest/gen-docroot.sh $(BUILD)/docroot

# sakura.ko for KVER (default: the running kernel) into build/kmod/KVER/
module:
	$(MAKE) -C kmod BUILD=$(BUILD) $(if $(KVER),KVER=$(KVER)) module

# the appliance: a 6.12 guest (TCG) with sakura.ko loaded and kserver in
# supervisor mode serving www/, forwarded to http://127.0.0.1:$(PORT)/
vm-run: kserver kserverctl
	tests/vm/deps.sh >/dev/null
	kver=$$(tests/vm/deps.sh | sed -n 's/^KVER_612=//p'); \
	$(MAKE) -C kmod BUILD=$(BUILD) KVER=$$kver module && \
	tests/vm/guest.sh --kver $$kver --timeout 86400 --fwd $(PORT):$(PORT) \
		-- $(CURDIR)/tests/vm/appliance.sh $(PORT)

run: kserver
	$(BUILD)/kserver --root www --listen 127.0.0.1:$(PORT)

deps:
	tests/deps.sh

test: deps
	$(MAKE) all kserver-asan
	tests/run-all.sh

# never part of make test: long, and timing needs an otherwise idle machine.
# BENCH_ARGS go to loadtest/bench.py, e.g. BENCH_ARGS="--rounds 3 --cells '1k-.*'"
# ICOUNT=1: instruction-counted guest (repeatable A/B runs; tests/vm/guest.sh --icount)
bench:
	loadtest/bench.sh $(if $(KVER),--kver $(KVER)) $(if $(filter 1,$(ICOUNT)),--icount) -- $(BENCH_ARGS)

bench-host:
	loadtest/bench.sh --host -- $(BENCH_ARGS)

# where the CPU goes, per server, under perf in a guest (PROFILE_ARGS: see
# loadtest/profile.sh, e.g. PROFILE_ARGS="--seconds 5 supervisor limit")
profile:
	loadtest/profile.sh $(if $(KVER),--kver $(KVER)) $(if $(filter 1,$(ICOUNT)),--icount) $(PROFILE_ARGS)

# never part of make test: the long versions of the hardening suites
# (adversarial HTTP, slow clients, libFuzzer, /dev/sakura fuzzer, kills in
# both guests), then tests/RELIABILITY.md from what they counted
stress: deps
	$(MAKE) all kserver-asan
	tests/stress/run.sh

# never part of make test: supervisor, fuzz (300 s) and faults (50 kills) in a
# 6.12 debug kernel (KASAN, KFENCE, UBSAN, lockdep, kmemleak) built once from
# Debian's linux-source-6.12 by tests/vm/debug_kernel.sh
stress-debug: deps
	$(MAKE) kserver kserverctl
	tests/vm/stress_debug.sh

freestanding:
	$(MAKE) -C kserver BUILD=$(BUILD) freestanding

unit:
	$(MAKE) -C tests/unit BUILD=$(BUILD) test

FUZZ_SECONDS ?= 3600
fuzz:
	tests/fuzz/run.sh --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)

.PHONY: all kserver kserverctl kserver-asan bench-files module vm-run run deps test bench bench-host profile stress stress-debug freestanding unit fuzz clean
