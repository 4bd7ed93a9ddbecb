# kserver - top-level Makefile: it only delegates.
#   make          build build/kserver
#   make run      serve www/ on http://127.0.0.1:8080/ (user mode)
#   make test     install what is missing (as root), then run every test

BUILD := $(CURDIR)/build
PORT ?= 8080

all: kserver bench-files

kserver:
	$(MAKE) -C kserver BUILD=$(BUILD)

kserver-asan:
	$(MAKE) -C kserver BUILD=$(BUILD) asan

# benchmark docroot: www/ plus large files, generated, never committed
bench-files:
	loadtest/gen-docroot.sh $(BUILD)/docroot

run: kserver
	$(BUILD)/kserver --root www --listen 127.0.0.1:$(PORT)

deps:
	tests/deps.sh

test: deps
	$(MAKE) all kserver-asan
	tests/run-all.sh

freestanding:
	$(MAKE) -C kserver BUILD=$(BUILD) freestanding

unit:
	$(MAKE) -C tests/unit BUILD=$(BUILD) test

clean:
	rm -rf $(BUILD)

.PHONY: all kserver kserver-asan bench-files run deps test freestanding unit clean
