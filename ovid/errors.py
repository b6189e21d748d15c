"""Errors that ovid reports to users as one line (the CLI prints them and exits 2)."""


class OvidError(Exception):
    """A user-facing failure: bad input, a missing model, a refused file. Its message is one line."""


class CorpusError(OvidError):
    """A corpus file that cannot be read; the message names the file and line at fault."""


class ModelUnavailable(OvidError):
    """A model that cannot be loaded here (e.g. it needs the Hugging Face Hub, which is unreachable)."""


class DownloadError(OvidError):
    """A download that failed or did not verify."""
