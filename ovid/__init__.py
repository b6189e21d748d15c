"""ovid: synthetic-text detection and responsible-release studies.

Importing ovid loads no model and changes no global state; `make_detector` and `load_detector`
import the detector machinery (and torch) on first use.
"""
__version__ = "0.1.0"


def make_detector(name: str, **params):
    """A detector by registry name, e.g. make_detector("fast-detectgpt", model="smollm2-135m")."""
    from ovid.detect import make_detector as make

    return make(name, **params)


def load_detector(folder):
    """A detector saved with `.save(folder)` (no pickle; hashes checked)."""
    from ovid.detect import load_detector as load

    return load(folder)
