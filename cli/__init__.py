"""The command line: `ovid` (cli/app.py, one module per command) and `detect-train` (cli/train.py,
also `ovid train`)."""
from .app import app, main

__all__ = ["app", "main"]
