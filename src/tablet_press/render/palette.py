"""The one palette: brand values from tablet.yaml made legible (WCAG contrast) for every text colour,
as the values of the page's var()s (print.css and site.css, through templates/_brand.css.j2) and of
styles/email.css's (light and dark mode, with font stacks that have web-safe fallbacks).

Only tablet.yaml's brand colours are configured; the dark palette is derived from them so that a
new brand stays readable in dark mode without anyone choosing a second set of colours.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable

from tablet_press.bundle.model import Config

MIN_CONTRAST = 4.5  # WCAG 2 AA for body text
# A little above the minimum, so rounding in a mail client's colour handling cannot push text below.
TARGET_CONTRAST = 4.7
WHITE, BLACK = "#ffffff", "#000000"
# The brand fonts are not installed on readers' machines; each stack ends in a generic family.
FONT_STACKS = {
    "Source Sans Pro": "'Source Sans Pro', 'Segoe UI', Helvetica, Arial, sans-serif",
    "Source Serif Pro": "'Source Serif Pro', Georgia, 'Times New Roman', serif",
}
DARK_PAGE, DARK_SURFACE = "#0f1317", "#171c22"


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def hex_colour(channels: Iterable[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in channels)


def mix(colour: str, other: str, weight: float) -> str:
    """`weight` of `colour` and the rest of `other`, channel by channel."""
    return hex_colour(a * weight + b * (1 - weight) for a, b in zip(rgb(colour), rgb(other), strict=True))


def shade(colour: str, lightness: float, saturation: float | None = None) -> str:
    """`colour`'s hue at another lightness (and saturation), all 0 to 1: the brand's blue stays blue
    when it has to turn light for dark mode."""
    hue, _, own = colorsys.rgb_to_hls(*(c / 255 for c in rgb(colour)))
    sat = own if saturation is None else saturation
    return hex_colour(c * 255 for c in colorsys.hls_to_rgb(hue, lightness, sat))


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def legible(colour: str, backgrounds: Iterable[str], towards: str) -> str:
    """`colour`, moved towards black or white only as far as needed to reach the target contrast
    on every background it is shown on; the brand colour itself when it already does."""
    grounds = list(backgrounds)
    for step in range(21):
        candidate = mix(colour, towards, 1 - step / 20)
        if all(contrast(candidate, ground) >= TARGET_CONTRAST for ground in grounds):
            return candidate
    return towards


def light_grounds(config: Config) -> list[str]:
    """Every background text is set on in light mode: the page, the author team, callouts."""
    brand = config.brand.colours
    return [WHITE, brand.sidebar, brand.callout]


def page_values(config: Config) -> dict[str, str]:
    """The value of every colour var(--name) of the printed issue and the archive's pages: the brand's
    colours, each text colour made legible on every background it is set on (the teal accent is
    4.43:1 on the author team's #eef3f8), the accent itself kept for rules and markers only."""
    brand = config.brand.colours
    grounds = light_grounds(config)
    return {
        "primary": legible(brand.primary, grounds, BLACK),
        "accent": brand.accent,  # rules, borders and list markers, which carry no text
        "accent-text": legible(brand.accent, grounds, BLACK),  # labels and kickers in the accent's hue
        "link": legible(brand.accent, grounds, BLACK),
        "text": legible(brand.text, grounds, BLACK),
        "muted": legible(brand.muted, grounds, BLACK),
        "sidebar": brand.sidebar,
        "callout": brand.callout,
    }


def css_values(config: Config) -> dict[str, str]:
    """The value of every var(--name) in styles/email.css."""
    brand = config.brand.colours
    page = page_values(config)
    dark = {
        "dark-page": DARK_PAGE,
        "dark-surface": DARK_SURFACE,
        "dark-sidebar": shade(brand.primary, 0.17, 0.45),
        "dark-callout": shade(brand.callout, 0.15, 0.3),
    }
    dark_grounds = list(dark.values())
    return {
        "body-font": FONT_STACKS.get(config.brand.fonts.body, "Arial, sans-serif"),
        "heading-font": FONT_STACKS.get(config.brand.fonts.headings, "Georgia, serif"),
        "page": brand.sidebar,
        "surface": WHITE,
        "sidebar": brand.sidebar,
        "callout": brand.callout,
        "accent": brand.accent,  # rules and borders, which carry no text
        "primary": page["primary"],
        "text": page["text"],
        "muted": page["muted"],
        "link": page["link"],
        "rule": mix(brand.muted, WHITE, 0.35),
        **dark,
        "dark-text": legible("#e6e9ed", dark_grounds, WHITE),
        "dark-heading": legible(shade(brand.primary, 0.8), dark_grounds, WHITE),
        "dark-link": legible(shade(brand.accent, 0.56), dark_grounds, WHITE),
        "dark-muted": legible(shade(brand.muted, 0.72), dark_grounds, WHITE),
    }
