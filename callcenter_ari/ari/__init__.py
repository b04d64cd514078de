"""The ARI boundary: the only code that speaks ARI's wire format or imports asyncari."""
