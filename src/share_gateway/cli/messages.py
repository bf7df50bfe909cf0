"""The command line's own words in Chinese and English: one table, so a view never spells a label twice.

Values from a node or a catalog are shown as they came; only these labels change with ``--lang``. A label
missing in a language falls back to English. The table is written in three parts, each beside what it serves
(the catalog view here, the answer and procedure views in ``messages_views``, the demo in ``messages_demo``),
and merged into ``MESSAGES``; a key defined twice is an error at import.

The language is the global ``share-gateway --lang zh|en`` (or the same option after a command); without it,
``LC_ALL`` or else ``LANG`` decides: Chinese if it starts with ``zh``, English otherwise.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from share_gateway.cli.messages_demo import DEMO_TEXTS
from share_gateway.cli.messages_views import VIEW_TEXTS
from share_gateway.domain.catalog_text import Language

__all__ = ["LANGUAGE_CHOICES", "MESSAGES", "default_language", "global_language_option", "language_option", "say"]

LANGUAGE_CHOICES = tuple(language.value for language in Language)

# (English, Chinese) by key.
_CATALOG_TEXTS: Mapping[str, tuple[str, str]] = {
    "catalog_version": ("catalog version {version}", "目录版本 {version}"),
    "purpose": ("purpose", "查询用途"),
    "title": ("title", "名称"),
    "description": ("description", "说明"),
    "requester_kinds": ("requester kinds", "查询主体类型"),
    "consent": ("consent", "需授权"),
    "reaches": ("reaches", "可及范围"),
    "record_type": ("record type", "信息类别"),
    "category": ("category", "类别"),
    "disclosure": ("disclosure", "公开方式"),
    "fields": ("fields", "字段数"),
    "severities": ("severities", "严重程度"),
    "providers": ("providers", "提供单位"),
    "document_kinds": ("document kinds", "法律文书类型"),
    "measure": ("measure", "惩戒措施"),
    "unverified": ("unverified citations", "未核实的依据"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "any": ("any", "不限"),
}


def _merge(*parts: Mapping[str, tuple[str, str]]) -> dict[str, Mapping[Language, str]]:
    merged: dict[str, Mapping[Language, str]] = {}
    for part in parts:
        for key, (english, chinese) in part.items():
            if key in merged:
                raise RuntimeError(f"message {key!r} is defined twice")
            merged[key] = {Language.EN: english, Language.ZH: chinese}
    return merged


MESSAGES: Mapping[str, Mapping[Language, str]] = _merge(_CATALOG_TEXTS, VIEW_TEXTS, DEMO_TEXTS)


def default_language(environ: Mapping[str, str] | None = None) -> Language:
    """Chinese when the locale (``LC_ALL``, else ``LANG``) starts with ``zh``; English otherwise."""
    env = os.environ if environ is None else environ
    locale = env.get("LC_ALL") or env.get("LANG") or ""
    return Language.ZH if locale.lower().startswith("zh") else Language.EN


def global_language_option(parser: argparse.ArgumentParser) -> None:
    """``share-gateway --lang zh|en``: the language of every view's titles and labels."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGE_CHOICES,
        default=default_language().value,
        help="language of titles and labels (default: zh if LC_ALL or LANG starts with zh, else en)",
    )


def language_option(parser: argparse.ArgumentParser) -> None:
    """The same ``--lang`` after a command (``catalog show --lang zh``); absent, the global one stands."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGE_CHOICES,
        default=argparse.SUPPRESS,
        help="language of titles and labels (default: the global --lang)",
    )


def say(key: str, language: Language | str, **values: object) -> str:
    """The label ``key`` in ``language`` (English where it has none), with ``values`` filled in."""
    texts = MESSAGES[key]
    return (texts.get(Language(language)) or texts[Language.EN]).format(**values)
