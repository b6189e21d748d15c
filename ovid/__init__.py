"""ovid: synthetic-text detection and responsible-release studies.

This module is the public API; the package's other modules in ovid/ are the foundation that
every stage shares (see docs/architecture.md). Importing ovid loads no model and changes no
global state; `make_detector` and `load_detector` import the detector machinery (and torch) on
first use.
"""
from .version import __version__

__all__ = ["__version__", "make_detector", "load_detector", "resolve_detector", "check"]


def make_detector(name: str, **params):
    """A detector by registry name, e.g. make_detector("fast-detectgpt", model="smollm2-135m")."""
    from ovid.detect import make_detector as make

    return make(name, **params)


def resolve_detector(name: str, **params):
    """A detector by any name a user gives: "ovid:default", a saved folder, or a registry name
    built with `params`."""
    from ovid.detect import resolve_detector as resolve

    return resolve(name, params)


def check(texts, detector="ovid:default", **settings):
    """Per text, what a person needs: verdict at the detector's stated FPR, P(machine), score,
    threshold, tokens scored and warnings (too short, another language, tampered, truncated), as
    `Check` records with `.to_dict()`; the service answers with the same. `settings`: segments,
    max_tokens, short_tokens, language."""
    from ovid.detect import check as run

    return run(texts, detector, **settings)


def load_detector(folder):
    """A detector saved with `.save(folder)` (no pickle; hashes checked)."""
    from ovid.detect import load_detector as load

    return load(folder)
