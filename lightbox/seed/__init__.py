"""The sample marketplace: ``generate(out, scale, seed)`` writes a deterministic landing folder
(every source of the landing contract, images, planted scenarios and contract-breaking rows),
the sample websites the demo crawls, and ``_seed.json``, the manifest of what was planted."""
from lightbox.seed.generate import DEFAULT_AS_OF, DEFAULT_PORT, generate

__all__ = ["DEFAULT_AS_OF", "DEFAULT_PORT", "generate"]
