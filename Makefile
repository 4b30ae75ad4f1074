# Shortcuts for dev.py, which needs nothing but python3.
.PHONY: serve test bench
serve:
	python3 dev.py serve
test:
	python3 dev.py test
bench:
	python3 dev.py bench
