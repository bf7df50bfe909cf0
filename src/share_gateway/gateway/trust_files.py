"""The trust material files a node watches, and what it logs when one is installed or refused.

One place for the three kinds (manifest, catalog, revocation list): a file
is read again only when its modification time or size moved, and judged
again only when its content (SHA-256) differs from the last one judged, so
a bad file raises one alarm however many polls see it, and a file put back
after a refusal is judged anew.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.trust_expiry import Artefact
from share_gateway.gateway.runtime import NodeRuntime, node_principal

log = logging.getLogger(__name__)


@dataclass
class WatchedFile:
    """A signed document on disk the node takes a newer version of while it runs."""

    artefact: Artefact
    path: Path | None
    _seen: tuple[int, int] | None = field(default=None, init=False)
    _digest: str | None = field(default=None, init=False)

    def changed(self) -> tuple[bytes, str] | None:
        """The file's bytes and their digest if they changed since the last look; None otherwise (or no file)."""
        if self.path is None:
            return None
        try:
            status = self.path.stat()
            seen = (status.st_mtime_ns, status.st_size)
            if seen == self._seen:
                return None
            document = self.path.read_bytes()
        except FileNotFoundError:
            return None
        self._seen = seen
        digest = document_digest(document)
        if digest == self._digest:
            return None
        self._digest = digest
        return document, digest

    def forget(self) -> None:
        """Judge the file again at the next look, unchanged or not (what it depends on changed)."""
        self._seen = self._digest = None


def document_digest(document: bytes) -> str:
    """What the events name a document by: the SHA-256 of its bytes, as the file or the call held them."""
    return hashlib.sha256(document).hexdigest()


def installed_event(runtime: NodeRuntime, artefact: Artefact, version: int, digest: str, source: str) -> Event:
    """The event that a newer document of ``artefact`` is in force: written in the installation's transaction."""
    return runtime.event(
        EventKind.TRUST_MATERIAL_INSTALLED,
        node_principal(runtime.region),
        Outcome.ALLOWED,
        details={"artefact": artefact.value, "version": str(version), "digest": digest, "source": source},
    )


def say_installed(event: Event) -> None:
    """The node's log line for an installation, once its event is committed (whoever reads the line finds it)."""
    details = event.details
    log.warning(
        "%s version %s installed from %s (digest %s…)",
        details["artefact"],
        details["version"],
        details["source"],
        details["digest"][:16],
    )


def refused(runtime: NodeRuntime, artefact: Artefact, digest: str, source: str, error: Exception) -> Event:
    """Raise the alarm for a document not installed (the one in force stays); from a store thread."""
    event = runtime.event(
        EventKind.TRUST_MATERIAL_REFUSED,
        node_principal(runtime.region),
        Outcome.DENIED,
        reason=str(error)[:1000],
        details={"artefact": artefact.value, "digest": digest, "source": source},
    )
    runtime.store.append([event])
    log.warning("%s %s not installed: %s", artefact.value.replace("_", " "), source, error)
    return event
