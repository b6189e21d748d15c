"""Errors that ovid reports to users as one line (the CLI prints them and exits 2)."""


class OvidError(Exception):
    """A user-facing failure: bad input, a missing model, a refused file. Its message is one line."""


class CorpusError(OvidError):
    """A corpus file that cannot be read; the message names the file and line at fault."""


class ModelUnavailable(OvidError):
    """A model that cannot be loaded here (e.g. it needs the Hugging Face Hub, which is unreachable)."""


class DownloadError(OvidError):
    """A download that failed or did not verify."""


class InputTypeError(OvidError, TypeError):
    """An argument of the wrong type given to the Python API (a string where a list belongs)."""


class InputValueError(OvidError, ValueError):
    """An argument of the right type but a wrong value (labels outside {0, 1}, lengths that differ)."""


class OutputError(OvidError):
    """An output that cannot or must not be written (an input, a folder ovid did not create)."""
