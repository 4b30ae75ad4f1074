# Shortcuts for dev.py, which needs nothing but python3.
.PHONY: serve test bench docs docs-serve
serve:
	python3 dev.py serve
test:
	python3 dev.py test
bench:
	python3 dev.py bench
docs:
	python3 dev.py docs
docs-serve:
	python3 dev.py docs serve
