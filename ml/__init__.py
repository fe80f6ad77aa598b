"""Lightbox machine learning: features, training, scoring and the model registry for the AI scan."""
