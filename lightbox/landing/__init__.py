"""The landing folder: its contract, row validation and the set-based loader."""
