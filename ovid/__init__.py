"""ovid: synthetic-text detection and responsible-release studies.

Importing ovid loads no model and changes no global state; heavy modules load on first use.
"""
__version__ = "0.1.0"
