# rtc: `make build` renders the bundled catalog into out/, `make test` runs the tests.
# Both install what they need on a fresh clone (.venv for Python, .tools for the Go binaries).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := $(CURDIR)/.tools/bin
KUBECONFORM_VERSION := v0.7.0
KUSTOMIZE_VERSION := v5.7.1
ACTIONLINT_VERSION := v1.7.12
# make bench SCALES=small,medium,large (large: ~20 000 objects, several minutes)
SCALES ?= small,medium
KAPITAN_VENV := bench/work/kapitan-venv

.PHONY: build check test lint fmt typecheck tools bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: a plain path in a .pth file, not setuptools' import hook, whose loading took
	# 17 ms of every rtc start (a no-op build is answered in ~25 ms; docs/performance.md).
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $@

$(TOOLS)/kubeconform:
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

$(TOOLS)/kustomize:
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

# Flux's own post-build substitution code (fluxcd/pkg/kustomize, as kustomize-controller
# v1.9.4 pins it), wrapped in a small CLI for the tests (tests/tools/fluxsubst).
$(TOOLS)/flux-substitute: tests/tools/fluxsubst/main.go tests/tools/fluxsubst/go.mod tests/tools/fluxsubst/go.sum
	cd tests/tools/fluxsubst && go build -o $(TOOLS)/flux-substitute .

$(TOOLS)/actionlint:
	GOBIN=$(TOOLS) GOFLAGS=-mod=mod go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

tools: $(TOOLS)/kubeconform $(TOOLS)/kustomize $(TOOLS)/flux-substitute $(TOOLS)/actionlint

## build: render every cluster into out/
build: $(STAMP)
	$(BIN)/rtc build
	$(BIN)/rtc docs

## check: out/ is current and lint-clean, the generated docs (docs/catalog.md, docs/rules.md) are current,
## the code is lint- and type-clean
check: $(STAMP)
	$(BIN)/rtc build --check
	$(BIN)/rtc docs --check
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

## docs: regenerate the generated docs (docs/catalog.md, docs/rules.md)
docs: $(STAMP)
	$(BIN)/rtc docs

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
