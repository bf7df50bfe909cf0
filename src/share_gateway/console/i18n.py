"""The console in English and Chinese: English text is the message id, ``locales/<language>.po`` its translation.

The catalogs are gettext PO files read with Babel (``babel.messages.pofile``), so translators use the usual tools
and ``pybabel extract`` finds every message in the templates (each is ``_("...")``). A message without a
translation shows in English, never as nothing. Numbers and percentages are formatted for the language by Babel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}


@dataclass(frozen=True)
class Translator:
    language: str
    messages: dict[str, str]

    def gettext(self, message: str, **values: object) -> str:
        text = self.messages.get(message) or message
        return text.format(**values) if values else text

    def number(self, value: float) -> str:
        return format_decimal(value, locale=BABEL_LOCALES[self.language])

    def percent(self, value: float) -> str:
        return format_percent(value, format="#,##0.0%", locale=BABEL_LOCALES[self.language])

    @property
    def html_lang(self) -> str:
        return "zh-Hans" if self.language == "zh" else "en"


@cache
def translator(language: str) -> Translator:
    """The catalog of ``language`` (English, the message ids themselves, for anything not known)."""
    if language not in LANGUAGES or language == DEFAULT:
        return Translator(DEFAULT, {})
    source = resources.files("share_gateway.console").joinpath("locales", f"{language}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=Locale.parse(BABEL_LOCALES[language]))
    messages = {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str) and m.string}
    return Translator(language, messages)


def chosen(value: str | None) -> str:
    """The language a request asks for (cookie), else the default."""
    return value if value in LANGUAGES else DEFAULT


Gettext = Callable[..., str]
