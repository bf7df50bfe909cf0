"""Chinese and English (issue 12, "Missing"): catalog titles and descriptions in both, GetCatalog carries them, and
the command line shows either with ``--lang zh|en``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from share_gateway.api.catalog import catalog_to_wire
from share_gateway.catalog import AUTHORITY_KEY_NAME, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.cli import main
from share_gateway.cli.messages import MESSAGES
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_text import Language, Texts
from tests.unit.catalog_support import problems_of, sample_document

AUTHORITY = SigningKey.generate(AUTHORITY_KEY_NAME)


@pytest.fixture
def signed_sample(tmp_path: Path) -> tuple[Path, Path]:
    document, public = tmp_path / "catalog.signed", tmp_path / "authority.pub"
    document.write_bytes(sign_catalog(sample_catalog_text(), AUTHORITY))
    public.write_bytes(AUTHORITY.verifying_key.to_pem())
    return document, public


def test_every_entry_of_the_sample_has_a_title_and_description_in_both_languages() -> None:
    catalog = Catalog.from_yaml(sample_catalog_text())
    entries: list[tuple[str, Texts]] = [
        *((p.name, p.texts) for p in catalog.purposes.values()),
        *((t.name, t.texts) for t in catalog.record_types.values()),
        *((m.name, m.texts) for m in catalog.measures.values()),
    ]
    for name, texts in entries:
        for language in Language:
            assert texts.titles.get(language), (name, language)
            assert texts.descriptions.get(language), (name, language)
    penalty = catalog.record_types["administrative_penalty"]
    assert penalty.texts.title(Language.ZH, penalty.name) == "行政处罚"
    assert penalty.description == "An administrative penalty decision"  # the English one, as before


def test_an_older_catalog_without_titles_keeps_its_english_description() -> None:
    document = sample_document()
    purpose = document["purposes"]["loan_underwriting"]
    del purpose["title"]
    purpose["description"] = "Assessing a loan applicant"
    loaded = Catalog.from_yaml(yaml.safe_dump(document, allow_unicode=True))
    texts = loaded.purposes["loan_underwriting"].texts
    assert texts.title(Language.ZH, "loan_underwriting") == "loan_underwriting"
    assert texts.description(Language.ZH) == "Assessing a loan applicant"


@pytest.mark.parametrize(
    ("value", "path", "description"),
    [
        ({"fr": "Souscription"}, "title.fr", "unknown language; one of en, zh"),
        ({"zh": ""}, "title.zh", "must be non-empty text"),
        ("Loan underwriting", "title", "must be a mapping of languages (en, zh) to text"),
    ],
)
def test_titles_are_checked_when_the_catalog_is_read(value: object, path: str, description: str) -> None:
    document = sample_document()
    document["purposes"]["loan_underwriting"]["title"] = value
    assert (f"purposes.loan_underwriting.{path}", description) in problems_of(document)


def test_get_catalog_carries_titles_providers_and_document_kinds() -> None:
    signed = open_catalog(sign_catalog(sample_catalog_text(), AUTHORITY), KeyRing([AUTHORITY.verifying_key]))
    wire = catalog_to_wire(signed)
    penalty = next(t for t in wire.record_types if t.name == "administrative_penalty")
    assert {(t.language, t.title) for t in penalty.texts} == {("en", "Administrative penalty"), ("zh", "行政处罚")}
    assert list(penalty.providers) == ["public_agency"]
    assert list(penalty.document_kinds) == ["administrative_penalty_decision"]
    assert penalty.document_number_field == "decision_number"
    debtor = next(t for t in wire.record_types if t.name == "dishonest_judgment_debtor")
    assert list(debtor.providers) == ["court"]
    loan = next(p for p in wire.purposes if p.name == "loan_underwriting")
    assert {t.language for t in loan.texts} == {"en", "zh"}


def test_cli_lang_zh(signed_sample: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """``catalog show --lang zh`` shows the catalog's Chinese titles and the command's Chinese labels; English is
    the default."""
    document, public = signed_sample
    main(["catalog", "show", str(document), "--authority", str(public), "--lang", "zh"])
    chinese = capsys.readouterr().out
    for text in ("目录版本 1", "信息类别", "提供单位", "行政处罚", "失信被执行人", "贷款审批", "限制高消费"):
        assert text in chinese, text
    main(["catalog", "show", str(document), "--authority", str(public)])
    english = capsys.readouterr().out
    for text in ("catalog version 1", "record type", "providers", "Administrative penalty", "Loan underwriting"):
        assert text in english, text
    assert "行政处罚" not in english


def test_every_label_has_both_languages() -> None:
    assert all(set(texts) == set(Language) for texts in MESSAGES.values())
