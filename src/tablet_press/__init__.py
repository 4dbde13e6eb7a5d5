"""tablet-press: validate, typeset and archive The Tablet newsletter."""

__version__ = "0.1.0"
