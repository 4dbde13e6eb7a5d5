"""Allows `python -m tablet_press`."""

from tablet_press.cli import main

main()
