"""The command line's own words in Chinese and English: one small table, so a view never spells a label twice.

Values from a node or a catalog are shown as they came; only these labels change with ``--lang``. A label
missing in a language falls back to English.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from share_gateway.domain.catalog_text import Language

__all__ = ["LANGUAGE_CHOICES", "MESSAGES", "language_option", "say"]

LANGUAGE_CHOICES = tuple(language.value for language in Language)

MESSAGES: Mapping[str, Mapping[Language, str]] = {
    "catalog_version": {Language.EN: "catalog version {version}", Language.ZH: "目录版本 {version}"},
    "purpose": {Language.EN: "purpose", Language.ZH: "查询用途"},
    "title": {Language.EN: "title", Language.ZH: "名称"},
    "description": {Language.EN: "description", Language.ZH: "说明"},
    "requester_kinds": {Language.EN: "requester kinds", Language.ZH: "查询主体类型"},
    "consent": {Language.EN: "consent", Language.ZH: "需授权"},
    "reaches": {Language.EN: "reaches", Language.ZH: "可及范围"},
    "record_type": {Language.EN: "record type", Language.ZH: "信息类别"},
    "category": {Language.EN: "category", Language.ZH: "类别"},
    "disclosure": {Language.EN: "disclosure", Language.ZH: "公开方式"},
    "fields": {Language.EN: "fields", Language.ZH: "字段数"},
    "severities": {Language.EN: "severities", Language.ZH: "严重程度"},
    "providers": {Language.EN: "providers", Language.ZH: "提供单位"},
    "document_kinds": {Language.EN: "document kinds", Language.ZH: "法律文书类型"},
    "measure": {Language.EN: "measure", Language.ZH: "惩戒措施"},
    "unverified": {Language.EN: "unverified citations", Language.ZH: "未核实的依据"},
    "yes": {Language.EN: "yes", Language.ZH: "是"},
    "no": {Language.EN: "no", Language.ZH: "否"},
    "any": {Language.EN: "any", Language.ZH: "不限"},
}


def language_option(parser: argparse.ArgumentParser) -> None:
    """``--lang zh|en``: the language of a command's titles and labels (English unless asked)."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGE_CHOICES,
        default=Language.EN.value,
        help="language of titles and labels (default: en)",
    )


def say(key: str, language: Language | str, **values: object) -> str:
    """The label ``key`` in ``language`` (English where it has none), with ``values`` filled in."""
    texts = MESSAGES[key]
    return (texts.get(Language(language)) or texts[Language.EN]).format(**values)
