# minerwatch — build, test, demo. `make help` lists the targets.
GO        ?= go
PYTHON    ?= python3
BIN       := bin/minerwatch
SHARED    ?= ../shared
SAMPLES   := datasets/samples
# With libpcap's headers installed, build in its BPF filter compiler so
# `detect -i IFACE -f 'EXPR'` takes tcpdump expressions; without them the
# binary is pure Go and -f takes `@FILE` (tcpdump -ddd output).
GOTAGS    ?= $(shell [ -e /usr/include/pcap/pcap.h ] && echo libpcap)

.PHONY: all build install test test-go test-python demo bench bench-go bench-forest bench-hostile fuzz help clean model readme-table

all: build

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/minerwatch
	$(GO) build -tags '$(GOTAGS)' -o $(BIN) ./cmd/minerwatch

# install: $(PREFIX)/bin (default /usr/local/bin, which needs root), or
# $GOBIN when it is set and PREFIX is not given; BINDIR= and DESTDIR= as
# packagers expect. `make install PREFIX=$$HOME/.local` needs no root.
PREFIX ?= /usr/local
ifeq ($(origin PREFIX),file)
ifneq ($(GOBIN),)
BINDIR ?= $(GOBIN)
endif
endif
BINDIR ?= $(PREFIX)/bin

install: build ## put minerwatch on PATH: $(PREFIX)/bin (PREFIX=/usr/local), or $GOBIN if set
	install -d '$(DESTDIR)$(BINDIR)'
	install -m 0755 $(BIN) '$(DESTDIR)$(BINDIR)/minerwatch'

test: build test-go test-python ## run every test (Go, then Python cross-checks)

test-go:
	$(GO) vet ./...
	$(GO) test -tags '$(GOTAGS)' ./...

test-python: build
	$(PYTHON) -m pytest -q tests/python

demo: build ## run minerwatch on the sample captures in datasets/samples
	@mkdir -p out
	$(BIN) flows -r $(SAMPLES)/xmrig-plain-3333.pcap
	$(BIN) features -r $(SAMPLES)/xmrig-plain-3333.pcap $(SAMPLES)/xmrig-tls-443.pcap -o out/demo-features.arrow
	@rm -f out/demo-alerts.jsonl
	$(BIN) detect --summary --sensor-name demo -o out/demo-alerts.jsonl -r $(SAMPLES)/*.pcap
	@echo "alerts: out/demo-alerts.jsonl ($$(wc -l < out/demo-alerts.jsonl) events)"

bench-forest: build ## forest training/scoring benchmarks, then scikit-learn on the same-shaped data
	$(GO) test -run '^$$' -bench . -benchmem ./models/...
	$(PYTHON) tests/python/bench_forest_sklearn.py

# The harness generates its captures into BENCH_OUT (gitignored) from
# $(SHARED)/datasets and reuses them; see README "Performance" and
# tests/bench/bench.sh for RUNS, COPIES, FLOWS, CAPTURES, REGEN.
BENCH_OUT ?= out/bench
bench: ## side-by-side harness: bare walk, flows, full pipeline, ndpiReader on generated captures
	OUT=$(BENCH_OUT) SHARED=$(SHARED)/datasets GO=$(GO) GOTAGS='$(GOTAGS)' tests/bench/bench.sh

bench-go: ## Go benchmarks (figures depend on the machine)
	$(GO) test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 60s
fuzz: ## run every fuzz target for FUZZTIME each (default 60s), one after another
	FUZZTIME=$(FUZZTIME) GO=$(GO) sh scripts/fuzz.sh

bench-hostile: ## max RSS on generated hostile captures (SYN flood, spoofed intel flood, gzip bomb); temp files only
	GO=$(GO) sh scripts/bench-hostile.sh

clean:
	rm -rf bin out

readme-table: build ## regenerate the README's feature and rules tables from the code
	$(PYTHON) -c 'import re,subprocess,sys; t=subprocess.run(["$(BIN)","features","--list","--markdown"],capture_output=True,text=True,check=True).stdout; s=open("README.md").read(); s=re.sub(r"(<!-- feature-table:begin -->\n).*?(<!-- feature-table:end -->)", lambda m: m.group(1)+t+m.group(2), s, flags=re.S); open("README.md","w").write(s)'
	$(PYTHON) -c 'import re,subprocess,sys; t=subprocess.run(["$(BIN)","rules","--markdown"],capture_output=True,text=True,check=True).stdout; s=open("README.md").read(); s=re.sub(r"(<!-- rules-table:begin -->\n).*?(<!-- rules-table:end -->)", lambda m: m.group(1)+t+m.group(2), s, flags=re.S); open("README.md","w").write(s)'

MODEL_DIR := models/defaultmodel
# The default model: trained on every capture of the shared datasets with a
# fixed seed and SOURCE_DATE_EPOCH, so a rebuild gives the same file.
# MODEL_FPR: the threshold's target false-positive rate per benign row. It is
# 0.25%, not train's 2% default, because the 144 benign-world captures
# (2026-11-30) added hundreds of easy benign rows: 2% of benign rows then put
# the threshold at ~0.3-0.5 and raised 15 false flows in 562 in grouped CV,
# where 0.25% raises 2 and finds the same TLS and proxied flows (README,
# "Training and evaluation").
MODEL_FPR := 0.0025
# --augment: also train on copies of every capture with TLS/AEAD/SSH record
# overhead added; at MODEL_FPR it finds 2 more TLS flows in plaintext ->
# encrypted with one false flow fewer, and the same in grouped CV.
# --trees 120 (train's default is 200): scoring time is proportional to the
# trees walked (issue 13: <= 2 us per row), and with seed 1 120 trees give
# the 200-tree model's grouped-CV figures per flow exactly (15/24 plaintext,
# 5/5 proxy, 14/15 TLS, 1 false flow of 572; rows 151/64/1 TP/FN/FP against
# 152/63/1). Seed study of 2026-12-06 (README, "Training and evaluation"):
# the seed moves the figures far more than 200 -> 120 trees; over seeds 1-5
# grouped CV per flow is the same except seed 5 (TLS 12/15 and 4 false
# flows against 13/15 and 5), plaintext -> encrypted 7-17 of 20 for 200
# trees and 7-16 for 120 (seed 1: 9/20 at 0.80% against 11/20 at 0.54%).
# 150 trees match 200 in grouped CV on all five seeds but find 7/20 in
# plaintext -> encrypted with seed 1, and cost a quarter more per row.
# The seed stays 1: no seed was picked for its figures.
MODEL_FLAGS := --target-fpr $(MODEL_FPR) --augment --trees 120
# The model's data: the shared datasets plus the benign long-lived captures
# made here with real applications in network namespaces
# (datasets/benign-ns, scripts/benign-ns/gen.sh; README, "Benign long-lived
# traffic we made"). Each manifest's paths are relative to its own folder.
MODEL_MANIFESTS := --manifest $(SHARED)/datasets/manifest.tsv --manifest datasets/benign-ns/manifest.tsv
model: build ## retrain the shipped default model and its reports from ../shared/datasets and datasets/benign-ns
	SOURCE_DATE_EPOCH=1796515200 $(BIN) train $(MODEL_FLAGS) $(MODEL_MANIFESTS) -o $(MODEL_DIR)/model.json.gz --report $(MODEL_DIR)/report > /dev/null
	$(BIN) eval --experiment plaintext-to-encrypted $(MODEL_FLAGS) $(MODEL_MANIFESTS) --report $(MODEL_DIR)/report > /dev/null
	$(BIN) eval --experiment feature-sets $(MODEL_FLAGS) $(MODEL_MANIFESTS) --report $(MODEL_DIR)/report > /dev/null
	$(GO) build -tags '$(GOTAGS)' -o $(BIN) ./cmd/minerwatch

NB_DATA     := notebooks/data
# The notebooks read the shared datasets when they are there, else the
# repo's four sample captures (datasets/manifest.tsv).
NB_MANIFEST := $(if $(wildcard $(SHARED)/datasets/manifest.tsv),$(SHARED)/datasets/manifest.tsv,datasets/manifest.tsv)

.PHONY: notebooks-data notebooks
notebooks-data: build ## feature files the notebooks read, from ../shared/datasets (or the repo samples)
	@mkdir -p $(NB_DATA)
	$(BIN) features --manifest $(NB_MANIFEST) -o $(NB_DATA)/features.arrow
	$(BIN) features --manifest $(NB_MANIFEST) -o $(NB_DATA)/features.parquet
	$(BIN) features --each --window 10s -r $(SAMPLES)/xmrig-tls-443.pcap $(SAMPLES)/benign_https-poll-curl-tls13_20min.pcap -o $(NB_DATA)/timeline.arrow

notebooks: notebooks-data ## execute both notebooks; executed copies go to notebooks/data/executed/
	$(PYTHON) -m jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 --output-dir $(NB_DATA)/executed notebooks/*.ipynb
