"""Lightbox: the data platform of a photo marketplace."""
