# The two commands: `make test` and (with the local pipeline) `make demo`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := 1
export CDK_DISABLE_VERSION_CHECK := 1
CDK_FLAGS := --no-notices $(if $(MODEL_ARN),-c model_arn=$(MODEL_ARN))

DEMO := demo-output
DEMO_IMAGES := 60
DEMO_CAREFUL := miss=0.05,spurious=0.15,jitter=6,confidence=88
SPLIT := $(DEMO)/sample/manifest
# As the seed blog post compares a DIY detector with Custom Labels: a model fitted here on a training split, served by
# the onnx backend, against the emulated Custom Labels model (the manifest model with noise), both scored on the test
# split the fit never saw. `make demo` compares them.
# End-to-end tests mostly wait (on queues, visibility timeouts, the model's start): 4 workers on 2 cores overlap
# the waiting (measured: 4m34 against 5m17 with 2). --dist worksteal: a worker that runs out of tests takes
# some from a busy one, so a long test queued late does not hold up the run. scripts/flake-hunt runs the same way.
WORKERS ?= 4

.PHONY: help install browser test test-unit test-integration test-e2e flake-hunt soak bench lint demo synth deploy \
	diff clean

help:  ## List the targets
	@grep -E '^[A-Za-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

$(CDK): package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

install: $(VENV)/.installed $(CDK)  ## Create .venv and install the pinned CDK CLI

SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)
browser:  ## Debian's Chromium for the gallery's browser tests (installed when missing)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
		echo "Could not install chromium (apt-get needs root or sudo): the gallery's browser tests will be skipped."

lint: $(VENV)/.installed  ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install browser lint  ## Run every test: the unit, integration and e2e tiers (about 4 min on 2 cores, after the install)
	$(PY) -m pytest -n $(WORKERS) --dist worksteal

test-unit: $(VENV)/.installed  ## The inner loop: pure-code tests only (seconds)
	$(PY) -m pytest -n 2 -m unit

test-integration: install  ## In-process tests against moto, the emulator, Stubber and CDK synth
	$(PY) -m pytest -n $(WORKERS) --dist worksteal -m integration

test-e2e: install browser  ## The local pipeline, the CLI in subprocesses, bundling, the browser
	$(PY) -m pytest -n $(WORKERS) --dist worksteal -m "e2e and not soak"

flake-hunt: install browser  ## The suite 10 times: plain, random order, under CPU contention (RUNS=N)
	WORKERS=$(WORKERS) scripts/flake-hunt $(RUNS)

soak: $(VENV)/.installed  ## The 1,000-image soak test through the local stack (several minutes)
	$(PY) -m pytest -m soak tests/e2e/test_soak.py

bench: $(VENV)/.installed  ## Benchmarks (saturation vs the AWS sample, handler overhead, cold start, the onnx backend) -> bench/RESULTS.md
	$(PY) -m bench.run
	$(PY) -m bench.onnx

demo: $(VENV)/.installed  ## The whole pipeline locally on a generated sample: Custom Labels (emulated) against a DIY model fitted here (no AWS account)
	$(VENV)/bin/customlabels sample-data $(DEMO)/sample --count $(DEMO_IMAGES)
	$(VENV)/bin/customlabels manifest validate $(DEMO)/sample/manifest.jsonl
	$(VENV)/bin/customlabels manifest stats $(DEMO)/sample/manifest.jsonl --chart $(DEMO)/sample/stats.png
	$(VENV)/bin/customlabels manifest split $(DEMO)/sample/manifest.jsonl --test 0.3 --seed 1 --images $(DEMO)/sample/images
	$(VENV)/bin/customlabels fit-diy --manifest $(SPLIT).train.jsonl --images $(SPLIT).train-images --out $(DEMO)/diy/bees.onnx
	$(VENV)/bin/customlabels local run --images $(SPLIT).test-images --model manifest:$(DEMO)/sample/manifest.jsonl \
		--noise $(DEMO_CAREFUL) --seed 1 --min-confidence 1 --out $(DEMO)/results
	$(VENV)/bin/customlabels local run --images $(SPLIT).test-images --model onnx:$(DEMO)/diy/bees.onnx \
		--min-confidence 1 --out $(DEMO)/results-diy
	$(VENV)/bin/customlabels visualize --results $(DEMO)/results --images $(SPLIT).test-images \
		--manifest $(SPLIT).test.jsonl --out $(DEMO)/gallery
	$(VENV)/bin/customlabels visualize --results $(DEMO)/results-diy --images $(SPLIT).test-images \
		--manifest $(SPLIT).test.jsonl --out $(DEMO)/gallery-diy
	$(VENV)/bin/customlabels evaluate --manifest $(SPLIT).test.jsonl --target-precision 0.9 \
		--results custom-labels=$(DEMO)/results --results diy=$(DEMO)/results-diy --images $(SPLIT).test-images \
		--gallery custom-labels=$(DEMO)/gallery --gallery diy=$(DEMO)/gallery-diy --report $(DEMO)/evaluation

synth: install  ## Synthesize: make synth MODEL_ARN=arn:aws:rekognition:...
	$(CDK) synth $(CDK_FLAGS) $(CDK_ARGS) --quiet

diff: install  ## Compare with the deployed stack: make diff MODEL_ARN=...
	$(CDK) diff $(CDK_FLAGS)

deploy: install  ## Deploy: make deploy MODEL_ARN=... (other settings: -c via CDK_ARGS="-c min_confidence=90")
	$(CDK) deploy $(CDK_FLAGS) $(CDK_ARGS)

clean:  ## Remove build outputs (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache build $(DEMO)
