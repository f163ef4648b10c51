# rtc: `make build` renders the bundled catalog into out/, `make test` runs the tests.
# Both install what they need on a fresh clone (.venv for Python, .tools for the Go binaries).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := $(CURDIR)/.tools/bin
KUBECONFORM_VERSION := v0.7.0
KUSTOMIZE_VERSION := v5.7.1
# make bench SCALES=small,medium,large (large: ~20 000 objects, several minutes)
SCALES ?= small,medium
KAPITAN_VENV := bench/work/kapitan-venv

.PHONY: build check test lint fmt typecheck tools bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS)/kubeconform:
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

$(TOOLS)/kustomize:
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

tools: $(TOOLS)/kubeconform $(TOOLS)/kustomize

## build: render every cluster into out/
build: $(STAMP)
	$(BIN)/rtc build

## check: out/ is current, the code is lint- and type-clean
check: $(STAMP)
	$(BIN)/rtc build --check
	$(BIN)/ruff check compiler tests
	$(BIN)/ruff format --check compiler tests
	$(BIN)/mypy

## test: the whole test suite (unit, golden, seed fidelity, real kustomize/kubeconform)
test: $(STAMP) tools
	PATH="$(TOOLS):$$PATH" $(BIN)/python -m pytest

$(KAPITAN_VENV)/.installed: bench/kapitan-requirements.txt
	$(PYTHON) -m venv $(KAPITAN_VENV)
	$(KAPITAN_VENV)/bin/python -m pip install --quiet -r bench/kapitan-requirements.txt
	touch $@

## bench: time rtc against the raw engines and Kapitan (bench/README.md has the results)
bench: $(STAMP) $(KAPITAN_VENV)/.installed
	$(BIN)/python -m bench.run --scales $(SCALES)

lint: $(STAMP)
	$(BIN)/ruff check compiler tests
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format compiler tests
	$(BIN)/ruff check --fix compiler tests

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
