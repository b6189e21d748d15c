"""The watermark's options, built from `WatermarkConfig` (ovid/watermark/config.py) for the
commands that take them: `ovid generate` (to mark), `ovid score` and `detect-train` (to detect)."""
from __future__ import annotations

import dataclasses
import inspect
from typing import Literal, Optional

from ovid.settings import field_help
from ovid.watermark.config import SCHEMES, WatermarkConfig, WatermarkTest

from .options import field_options, option

NAMES = {"scheme": "watermark", "key": "watermark_key"}  # CLI spellings of WatermarkConfig's fields
FIELDS = [f.name for f in dataclasses.fields(WatermarkConfig)]


def watermark_options(detector: bool) -> list[inspect.Parameter]:
    """--watermark, --watermark-key and the scheme's parameters, all unset unless given; for a
    detector also --alpha and --min-tokens. --watermark names a scheme in every command: the one
    to mark with (generate) or to test for (score, train, serve)."""
    scheme_type = Optional[Literal[SCHEMES]]
    if detector:
        scheme = option("watermark", scheme_type, None, "The watermark scheme to test for: "
                        + field_help(WatermarkConfig, "scheme"), show_default="kgw")
    else:
        scheme = option("watermark", scheme_type, None, "The watermark scheme to mark the samples with: "
                        + field_help(WatermarkConfig, "scheme") + " Default: no watermark.", show_default=False)
    opts = [scheme, *field_options(WatermarkConfig, skip=("scheme",), rename=NAMES, unset=True)]
    if detector:
        opts += field_options(WatermarkTest, unset=True)  # the watermark detector's test: alpha, min_tokens
    return opts


def option_name(field: str) -> str:
    return NAMES.get(field, field)


def field_name(option: str) -> str:
    """The WatermarkConfig field (or detector parameter) an option sets."""
    return {v: k for k, v in NAMES.items()}.get(option, option)
