"""Node configuration: one YAML file; relative paths are relative to the file."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.harvesting import HarvestingThresholds
from share_gateway.domain.identifiers import validate_region
from share_gateway.domain.principals import Identity
from share_gateway.domain.quotas import QUOTA_FIELDS
from share_gateway.domain.repair import RepairDeadlines
from share_gateway.domain.trust_expiry import DEFAULT_HORIZON_DAYS


@dataclass(frozen=True)
class TlsMaterial:
    """A node's certificate and key (served to clients, presented to peers) and the federation CA, PEM."""

    certificate: bytes
    key: bytes
    ca: bytes


def _known(settings: type, raw: dict[str, Any], section: str) -> dict[str, Any]:
    """The section's values, refusing a key the settings do not have (a typo must not pass silently)."""
    unknown = set(raw) - {f.name for f in dataclasses.fields(settings)}
    if unknown:
        raise ValueError(f"unknown {section} settings: {', '.join(sorted(unknown))}")
    return dict(raw)


@dataclass(frozen=True)
class LogSettings:
    """How the accountability log is integrated, published and read back."""

    # Whether this process may lead its region: integrate and checkpoint the log, ask for cosignatures, sweep.
    # Replicas sharing one database elect one leader among those that may (false: this process never leads).
    sequencer: bool = True
    # How often a replica that does not lead tries to take over: a dead leader is replaced within about this.
    leader_retry_seconds: float = 0.5
    integrate_interval_seconds: float = 0.2
    # A checkpoint is published within this long of new activity, or after this many new leaves.
    checkpoint_interval_seconds: float = 1.0
    checkpoint_every_leaves: int = 10_000
    # How often the sequencing process asks peers to cosign its latest checkpoint (when federated).
    witness_interval_seconds: float = 1.0
    # How far back a subject's "who looked at me" reaches (FCRA 1681g(a)(3): two years for employment).
    history_days: int = 730
    # After this long an event's personal payload may be redacted (``audit redact``); its leaf hash stays.
    # Default: five years, as the Credit Reporting Industry Regulation (Art. 16) keeps negative information.
    redact_after_days: int = 1825

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> LogSettings:
        return cls(**_known(cls, raw, "log"))


@dataclass(frozen=True)
class ProcedureSettings:
    """Deadlines of the procedures and the calendar they are counted in (DOMAIN.md defaults)."""

    # Public holidays and weekend days worked in return, as the State Council publishes them each year.
    holidays: tuple[str, ...] = ()
    working_days: tuple[str, ...] = ()
    # 2025 No. 22 as the provincial portals state it: the whole repair course, application to result, takes at
    # most 10 working days; inside it the department decides within 3 working days of receiving the application.
    repair_total_working_days: int = 10
    repair_decision_working_days: int = 3
    # The longest extension of a complex repair case (unverified: no source in hand sets it).
    repair_extension_working_days: int = 10
    # Calendar days to answer a dispute where the catalog sets no time for the record's type (the catalog's
    # own default is 20: Credit Reporting Industry Regulation Art. 25).
    dispute_answer_days: int = 20
    # A listing whose underlying decision is revoked is removed within 3 working days.
    revoked_listing_removal_working_days: int = 3
    # How often records past their disclosure period are marked expired, and run-out listings ended.
    sweep_interval_seconds: float = 60.0

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> ProcedureSettings:
        # The old name of the whole course's deadline, still read from older node.yaml files.
        raw = {("repair_total_working_days" if k == "repair_reply_working_days" else k): v for k, v in raw.items()}
        values = _known(cls, raw, "procedures")
        for days in ("holidays", "working_days"):
            if days in values:
                values[days] = tuple(str(d) for d in values[days])
        return cls(**values)

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.of(self.holidays, self.working_days)

    def repair_deadlines(self) -> RepairDeadlines:
        return RepairDeadlines(
            self.repair_total_working_days, self.repair_decision_working_days, self.repair_extension_working_days
        )


def require_seconds(name: str, value: object, most: float) -> None:
    """A setting in seconds is a finite number above 0 and at most ``most`` (a bool or a text is refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and 0 < value <= most)
    ):
        raise ValueError(f"{name} must be a number of seconds above 0 and at most {most:g}")


@dataclass(frozen=True)
class FederationSettings:
    """How this node deals with its peers' clocks."""

    # How far two nodes' clocks may disagree: every time one node compares with another's (a forwarded inquiry's
    # freshness and the grant it vouches for). The default is the replay window of peer inquiries (60 s).
    clock_skew_seconds: float = 60.0

    def __post_init__(self) -> None:
        # A skew of zero would refuse every inquiry from a clock a microsecond off; over an hour, replays live long.
        require_seconds("federation.clock_skew_seconds", self.clock_skew_seconds, 3600.0)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> FederationSettings:
        return cls(**_known(cls, raw, "federation"))


@dataclass(frozen=True)
class RevocationWatchSettings:
    """Revocations pushed to requesters (``InquiryService.WatchRevocations``, README "Revocations pushed")."""

    # A requester acknowledges a revocation within this long of the node keeping it; a later acknowledgement is
    # reported to officers. One day is this project's choice, not a regulator's: 2025 No. 22 wants repair results
    # everywhere "at the same time" but names no time for a recipient to act on them.
    acknowledge_within_seconds: float = 86400.0
    # Revocations held for one watcher that has not taken them; past this it reads from its cursor instead.
    queue_size: int = 256
    # How often a process looks for revocations another replica kept (one query, only while anyone watches).
    reread_seconds: float = 2.0
    # Watches one requester may hold open at once at this process (each holds up to ``queue_size`` revocations).
    watches_per_requester: int = 4

    def __post_init__(self) -> None:
        require_seconds("revocation_watch.acknowledge_within_seconds", self.acknowledge_within_seconds, 31 * 86400.0)
        require_seconds("revocation_watch.reread_seconds", self.reread_seconds, 3600.0)
        for name in ("queue_size", "watches_per_requester"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"revocation_watch.{name} must be a whole number of at least 1")

    @property
    def acknowledge_within(self) -> timedelta:
        return timedelta(seconds=self.acknowledge_within_seconds)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> RevocationWatchSettings:
        return cls(**_known(cls, raw, "revocation_watch"))


def _whole(name: str, value: object, least: int, most: int) -> None:
    """A setting that is a whole number from ``least`` to ``most`` (a bool or a text is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise ValueError(f"{name} must be a whole number from {least} to {most}")


@dataclass(frozen=True)
class TrustSettings:
    """How early a node warns that its trust material (manifest, certificates) runs out (README "Expiry warnings")."""

    # Warn this many days before an artefact expires (the default: 30). Shorter than the lifetime the
    # authority signs manifests for, or the node warns from the day a manifest is installed.
    expiry_warning_days: int = DEFAULT_HORIZON_DAYS

    def __post_init__(self) -> None:
        # Zero would warn only once it is too late; over a year would warn about every certificate all the time.
        _whole("trust.expiry_warning_days", self.expiry_warning_days, 1, 365)

    @property
    def expiry_horizon(self) -> timedelta:
        return timedelta(days=self.expiry_warning_days)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> TrustSettings:
        return cls(**_known(cls, raw, "trust"))


@dataclass(frozen=True)
class MetricsSettings:
    """Where Prometheus scrapes the node's metrics (plain HTTP); without ``listen`` none are served."""

    listen: str | None = None

    def __post_init__(self) -> None:
        if self.listen is not None:
            listen_address(self.listen)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> MetricsSettings:
        return cls(**_known(cls, raw, "metrics"))


def listen_address(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6; port 0: any free port) as (host, port); ValueError otherwise."""
    host, colon, port = listen.rpartition(":") if isinstance(listen, str) else ("", "", "")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"metrics.listen must be host:port with a port from 0 to 65535, not {listen!r}")
    return host, int(port)


@dataclass(frozen=True)
class QuotaOverride:
    """One grant's own limits (requester URI and purpose), replacing the catalog's for that pair only."""

    requester: str
    purpose: str
    limits: tuple[tuple[str, int], ...]

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> QuotaOverride:
        unknown = set(raw) - {"requester", "purpose", *QUOTA_FIELDS}
        if unknown or "requester" not in raw or "purpose" not in raw:
            raise ValueError(f"a quota override names requester, purpose and {', '.join(QUOTA_FIELDS)} only")
        limits = tuple((name, raw[name]) for name in QUOTA_FIELDS if name in raw)
        for name, value in limits:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"quotas.overrides: {name} must be a whole number of at least 1")
        return cls(str(raw["requester"]), str(raw["purpose"]), limits)


@dataclass(frozen=True)
class QuotaSettings:
    """How a node holds requesters to their purposes' quotas (README, "Quotas and harvesting")."""

    # Calls one identity may have in flight at once at this process (a peer region: this times region_factor).
    concurrent_calls: int = 8
    # A peer region's total per purpose, as a multiple of one requester's: it asks for many requesters.
    region_factor: int = 50
    # The most tokens one lease takes from the shared bucket (and so the most one replica may hold unspent).
    lease_batch_most: int = 100
    # A requester refused more than this many times in its harvesting window is answered slowly: each further
    # refusal waits ``slow_refusal_seconds`` (at most its retry delay) before it goes back. A client that keeps
    # pushing past its quota then holds its own connections instead of the node's cores (a tarpit).
    slow_refusals_after: int = 20
    slow_refusal_seconds: float = 1.0
    overrides: tuple[QuotaOverride, ...] = ()
    harvesting: HarvestingThresholds = field(default_factory=HarvestingThresholds)

    def __post_init__(self) -> None:
        require_seconds("quotas.slow_refusal_seconds", self.slow_refusal_seconds, 60.0)
        for name in ("concurrent_calls", "region_factor", "lease_batch_most", "slow_refusals_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"quotas.{name} must be a whole number of at least 1")

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> QuotaSettings:
        values = _known(cls, raw, "quotas")
        values["overrides"] = tuple(QuotaOverride.from_mapping(o) for o in values.get("overrides") or ())
        values["harvesting"] = HarvestingThresholds(
            **_known(HarvestingThresholds, values.get("harvesting") or {}, "quotas.harvesting")
        )
        return cls(**values)


@dataclass(frozen=True)
class NodeConfig:
    region: str
    listen: str
    database: str
    tls_certificate: Path
    tls_key: Path
    ca_certificate: Path
    signing_key: Path
    authority_key: Path
    catalog: Path
    public_listen: str | None = None
    public_plaintext: bool = False
    max_message_bytes: int = 1 << 20
    principal_ttl_seconds: float = 2.0
    sqlite_synchronous: str = "FULL"
    # The federation manifest; without one the node serves its region only.
    manifest: Path | None = None
    # The key this node cosigns its peers' checkpoints with (c2sp.org/tlog-cosignature); without one it witnesses
    # nothing. Distinct from ``signing_key``: a witness statement must not be confusable with the node's own.
    witness_key: Path | None = None
    # The authority's certificate revocation list, watched: a newer one written there is installed
    # within ``revocation_poll_seconds``, without a restart (so are a newer ``manifest`` and ``catalog``).
    revocation_list: Path | None = None
    revocation_poll_seconds: float = 5.0
    # Refused calls of one kind and reason from one caller (a peer's, a revoked certificate's): the first is
    # logged at once, the rest as one event with their count per this many seconds.
    refusal_window_seconds: float = 60.0
    # The administrators (sgw:// identity URIs) whose certificates, carrying the administrator role, may change
    # this node's grants; empty: any certificate of the federation CA with the role. One CA serves the whole
    # federation, so naming them keeps another region's administrator out.
    administrators: tuple[str, ...] = ()
    log: LogSettings = field(default_factory=LogSettings)
    procedures: ProcedureSettings = field(default_factory=ProcedureSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    quotas: QuotaSettings = field(default_factory=QuotaSettings)
    revocation_watch: RevocationWatchSettings = field(default_factory=RevocationWatchSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    def __post_init__(self) -> None:
        require_seconds("refusal_window_seconds", self.refusal_window_seconds, 86400.0)
        require_seconds("revocation_poll_seconds", self.revocation_poll_seconds, 3600.0)

    @property
    def key_name(self) -> str:
        return node_key_name(self.region)

    @property
    def witness_key_name(self) -> str:
        return witness_key_name(self.region)

    def tls(self) -> TlsMaterial:
        return TlsMaterial(
            self.tls_certificate.read_bytes(), self.tls_key.read_bytes(), self.ca_certificate.read_bytes()
        )

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        base = path.resolve().parent
        raw: dict[str, Any] = yaml.safe_load(path.read_text())

        def file(value: str) -> Path:
            candidate = Path(value)
            return candidate if candidate.is_absolute() else base / candidate

        database = raw["database"]
        if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
            database = f"sqlite:///{file(database.removeprefix('sqlite:///'))}"
        return cls(
            region=validate_region(str(raw["region"])),
            listen=raw["listen"],
            public_listen=raw.get("public_listen"),
            public_plaintext=bool(raw.get("public_plaintext", False)),
            database=database,
            tls_certificate=file(raw["tls"]["certificate"]),
            tls_key=file(raw["tls"]["key"]),
            ca_certificate=file(raw["tls"]["ca"]),
            signing_key=file(raw["signing_key"]),
            authority_key=file(raw["authority_key"]),
            catalog=file(raw["catalog"]),
            max_message_bytes=int(raw.get("max_message_bytes", 1 << 20)),
            principal_ttl_seconds=float(raw.get("principal_ttl_seconds", 2.0)),
            sqlite_synchronous=str(raw.get("sqlite_synchronous", "FULL")).upper(),
            manifest=file(raw["manifest"]) if raw.get("manifest") else None,
            witness_key=file(raw["witness_key"]) if raw.get("witness_key") else None,
            revocation_list=file(raw["revocation_list"]) if raw.get("revocation_list") else None,
            revocation_poll_seconds=raw.get("revocation_poll_seconds", 5.0),
            refusal_window_seconds=raw.get("refusal_window_seconds", 60.0),
            administrators=tuple(Identity.from_uri(str(uri)).uri for uri in raw.get("administrators") or ()),
            log=LogSettings.from_mapping(raw.get("log") or {}),
            procedures=ProcedureSettings.from_mapping(raw.get("procedures") or {}),
            federation=FederationSettings.from_mapping(raw.get("federation") or {}),
            quotas=QuotaSettings.from_mapping(raw.get("quotas") or {}),
            revocation_watch=RevocationWatchSettings.from_mapping(raw.get("revocation_watch") or {}),
            trust=TrustSettings.from_mapping(raw.get("trust") or {}),
            metrics=MetricsSettings.from_mapping(raw.get("metrics") or {}),
        )


def node_key_name(region: str) -> str:
    """The signed-note key name of a node's Ed25519 key."""
    return f"share-gateway/node/{region}"


def witness_key_name(region: str) -> str:
    """The key name a node cosigns its peers' checkpoints under: never its log key's name."""
    return f"share-gateway/witness/{region}"
