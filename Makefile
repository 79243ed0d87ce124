# The two set-up commands (README.md opens with them):
#   make demo   - venv + install + run the main job on the embedded defaults
#   make test   - venv + install + the whole test suite (default and heavy markers)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-quick browser train-default train-default-gpu train-default-resume bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch would pull gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/imagine demo

test: install browser
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadgroup

test-quick: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

# How the shipped default model was made (docs/model-default.md): the demo corpus through the real
# dataset pipeline, then `imagine train`; then publish the pipeline + card into the package.
train-default: install
	$(BIN)/imagine platform demo --posts 20000 --out var/default/platform --workers 1
	$(BIN)/imagine dataset build --manifest var/default/platform/posts.parquet --owners var/default/platform/owners.parquet --out var/default/dataset
	$(BIN)/imagine train --dataset var/default/dataset --config src/imagine/model/configs/default.toml --out var/models/default
	$(BIN)/python -c "from imagine.model.publish import publish_model; publish_model('var/models/default', 'src/imagine/assets/default-model')"

# Every benchmark at a size that finishes in minutes on 2 cores; each prints the figure it is judged by.
bench: install
	$(BIN)/python benchmarks/platform_demo.py
	$(BIN)/python benchmarks/dataset_build.py --posts 3000 --rows 200000
	$(BIN)/python benchmarks/train.py --config default --steps 4 --rounds 3 --rows 256
	$(BIN)/python benchmarks/generate.py
	$(BIN)/python benchmarks/policy_latency.py
	$(BIN)/python benchmarks/guard_provenance.py --n 10
	$(BIN)/python benchmarks/watermark_baseline.py --n 8
	$(BIN)/python benchmarks/arena.py
	$(BIN)/python benchmarks/serve.py --soak-seconds 0

clean:
	rm -rf $(VENV) var test-artifacts

# The chosen recipe at GPU size on one GPU (docs/model.md): demo platform and recaptioned dataset
# prepared on all cores, bf16 training (default-gpu.toml), then the benchmark at 8 prompts per
# category. Model + card + benchmark JSON land in $OUT when set (else var/recipe).
train-default-gpu: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m imagine.model.recipe --config default-gpu --posts 60000 --workers $$(nproc) \
		--prompts-per-category 8 --out $${OUT:-var/recipe}

# Continue the default's training from the checkpoint copy tracked in training/default-model/
# (weights, optimiser, EMA, RNG, data position, config): works on a fresh machine, the dataset is
# rebuilt from the same seed and matched by digest (docs/model-default.md).
train-default-resume: install
	test -f var/default/platform/posts.parquet || $(BIN)/imagine platform demo --posts 20000 --seed 0 --out var/default/platform --workers 1
	test -d var/default/dataset/images.lance || $(BIN)/imagine dataset build --manifest var/default/platform/posts.parquet --owners var/default/platform/owners.parquet --out var/default/dataset
	HF_HUB_OFFLINE=1 $(BIN)/imagine --data-home var/default/home train --dataset var/default/dataset \
		--config src/imagine/model/configs/default-recaptioned.toml --out var/models/default-recaptioned --mirror training/default-model
