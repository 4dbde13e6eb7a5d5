"""Validation: every problem of a bundle at once, house-style and clinical lint rules, email rules."""
