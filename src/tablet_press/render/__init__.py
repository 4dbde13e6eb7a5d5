"""Rendering: the view model, print HTML -> PDF (locked-down WeasyPrint), email HTML, text, .eml."""
