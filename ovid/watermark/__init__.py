"""Text watermarks: the schemes' settings (`WatermarkConfig`), the logits processors that mark
text at generation time (transformers' own), and the exact tests that find the mark again.
Generation (ovid.generate) and detection (ovid.detect) both build on this package."""
from ovid.lazy import lazy_exports

_EXPORTS = {"WatermarkConfig": "config", "SCHEMES": "config", "logits_processor": "schemes",
            "WatermarkTest": "schemes", "watermark_test": "schemes"}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = list(_EXPORTS)
