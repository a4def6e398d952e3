# Locatietoets: two commands on a fresh machine (see README, "Installatie").
#   make demo   creates the environment and runs the demo end to end (no QGIS needed)
#   make test   installs what the tests need (QGIS via apt when root) and runs all tests
# The real work is in tools/bootstrap.sh, so `bash tools/bootstrap.sh test` works without make.

SHELL := /bin/bash
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo test lint venv clean clean-venv

help:
	@echo "make demo               omgeving opzetten en de demo draaien (uitvoer in demo-uitvoer/)"
	@echo "make test [ARGS=...]    alle tests (installeert QGIS met apt als root), bv. ARGS=\"-k geur\""
	@echo "make lint               ruff check . (regels in pyproject.toml; draait ook vóór make test)"
	@echo "make venv               alleen de omgeving bouwen/hergebruiken en het pad tonen"
	@echo "make clean              demo-uitvoer en build-resten opruimen"
	@echo "make clean-venv         de venv van de huidige pins verwijderen (wordt bij make demo/test herbouwd)"

demo:
	bash tools/bootstrap.sh demo $(ARGS)

test:
	bash tools/bootstrap.sh test $(ARGS)

lint:
	bash tools/bootstrap.sh lint $(ARGS)

venv:
	bash tools/bootstrap.sh venv

clean:
	rm -rf demo-uitvoer build dist .pytest_cache .qgis-settings *.egg-info
	find . -name __pycache__ -type d -prune -not -path "./.git/*" -exec rm -rf {} +

clean-venv:
	@v=$$(bash tools/bootstrap.sh venv-path); echo "rm -rf $$v"; rm -rf "$$v" "$$v.lock"
