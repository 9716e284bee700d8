# The two commands of the README. Both set everything up first (idempotent, fast when done).
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup run test

setup:
	@bash scripts/setup.sh

run: setup
	snakemake --profile workflow/profiles/default

test: setup
	bash scripts/test.sh
