"""What ``demo --keep-running`` prints to try the running nodes: commands to paste as printed.

Every path is absolute and every argument real (the demo's company, a consent it signed, the bank's certificate),
so a command works from any directory; the files the commands read are written here, beside the federation.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from google.protobuf import json_format

from share_gateway.api.convert import subject_to_wire
from share_gateway.cli.demo_scenario import Demo
from share_gateway.cli.messages import say
from share_gateway.domain.catalog_text import Language
from share_gateway.domain.identifiers import Subject
from share_gateway.synthetic import SyntheticCompany
from share_gateway.v1 import inquiry_pb2

ASKING_REGION = "110000"
PURPOSE = "loan_underwriting"


def _command_name() -> str:
    """This installation's ``share-gateway`` by its absolute path (a virtualenv is seldom on PATH), else the name."""
    beside = Path(sys.executable).absolute().parent / "share-gateway"
    return str(beside) if beside.is_file() else "share-gateway"


def _shell(*words: str | Path) -> str:
    """One command line, each word quoted for a POSIX shell where it needs it, continued over lines of options."""
    quoted = [shlex.quote(str(word)) for word in words]
    lines, current = [], quoted[0]
    for index, word in enumerate(quoted[1:], start=1):
        # An option and its value stay on one line: break before an option when the pair would pass 100 columns.
        pair = len(word) + 1 + (len(quoted[index + 1]) if index + 1 < len(quoted) else 0)
        if word.startswith("-") and len(current) + 1 + pair > 100:
            lines.append(current)
            current = "    " + word
        else:
            current += " " + word
    return " \\\n".join([*lines, current])


def examples_text(demo: Demo, company: SyntheticCompany, language: Language) -> str:
    """The bank's federated inquiry about the demo's company, with the CLI and with grpcurl."""
    node = demo.nodes[ASKING_REGION]
    root = demo.layout.root.absolute()
    subject = Subject(company.kind, company.identifier)
    consent = demo.consent("company", subject, demo.members["bank"].identity.uri, PURPOSE)
    consent_path = root / "bank-consent.json"
    consent_path.write_text(json_format.MessageToJson(consent) + "\n")
    request = inquiry_pb2.InquireRequest(
        subject=subject_to_wire(subject),
        purpose=PURPOSE,
        consent=consent,
        scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
    )
    request_path = root / "bank-inquiry.json"
    request_path.write_text(json_format.MessageToJson(request) + "\n")
    bank = demo.layout.client("bank")
    node_keys = [f"{region}={demo.layout.node_public_key(region).absolute()}" for region in demo.nodes]
    cli = _shell(
        _command_name(), "inquire", "--node", f"localhost:{node.port}", "--identity", bank.directory.absolute(),
        "--subject", company.identifier, "--purpose", PURPOSE, "--consent-file", consent_path, "--federation",
        *[word for key in node_keys for word in ("--node-key", key)],
    )  # fmt: skip
    ca, certificate, key = (path.absolute() for path in (bank.ca, bank.certificate, bank.key))
    listing = _shell("grpcurl", "-cacert", ca, f"localhost:{node.public_port}", "list")
    inquiry = _shell(
        "grpcurl", "-cacert", ca, "-cert", certificate, "-key", key, "-d", "@",
        f"localhost:{node.port}", "share_gateway.v1.InquiryService/Inquire",
    ) + f" < {shlex.quote(str(request_path))}"  # fmt: skip
    ports = ", ".join(f"{r} {n.port}" for r, n in demo.nodes.items())
    return "\n".join(
        (
            "",
            say("examples_intro", language),
            "",
            cli,
            "",
            say("grpcurl_intro", language),
            "",
            listing,
            inquiry,
            "",
            say("grpcurl_consent", language, request=request_path.name, consent=consent_path.name),
            say("mtls_ports", language, ports=ports),
            "",
        )
    )
