"""Node configuration: one YAML file (relative paths are relative to it), environment overrides and secret files.

Each section is a frozen pydantic dataclass: the field's type and bounds are its check, so a wrong value is refused
when the configuration is read, in one line naming the key (``config_sources`` words it). To add a setting, add a
field with its default and bounds (``seconds(5.0, most=60)``, ``whole(8, least=1)``, ``StrictBool``, a kind of
``config_types``) and a comment saying why; to add a section, add a ``@dataclass(frozen=True, config=SECTION)``
class (with ``Section`` for ``from_mapping``; an operational one in ``config_operations``) and a field of that type on
``NodeConfig``. Nothing else lists them:
the environment (``SHARE_GATEWAY_SECTION__KEY``) and secret files (``key_file``) reach every field by its name.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.dataclasses import dataclass

from share_gateway.config_operations import (
    ConnectionSettings,
    HealthSettings,
    ListenAddress,
    LoggingSettings,
    MetricsSettings,
    ShutdownSettings,
    TracingSettings,
)
from share_gateway.config_sources import (
    SECTION_KEYS,
    ConfigError,
    Section,
    Where,
    apply_environment,
    describe,
    drop_empty,
    read_secrets,
    read_yaml,
)
from share_gateway.config_types import (
    SECTION,
    Administrator,
    ConfigPath,
    DatabaseUrl,
    Day,
    Region,
    SqliteSynchronous,
    seconds,
    whole,
)
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.harvesting import HarvestingThresholds
from share_gateway.domain.key_names import node_key_name, witness_key_name
from share_gateway.domain.quotas import QUOTA_FIELDS
from share_gateway.domain.repair import RepairDeadlines
from share_gateway.domain.trust_expiry import DEFAULT_HORIZON_DAYS


def _quota_name(name: str) -> str:
    if name not in QUOTA_FIELDS:
        raise ValueError(f"must be one of {', '.join(QUOTA_FIELDS)}, not {name!r}")
    return name


QuotaName = Annotated[StrictStr, AfterValidator(_quota_name)]


@dataclasses.dataclass(frozen=True)
class TlsMaterial:
    """A node's certificate and key (served to clients, presented to peers) and the federation CA, PEM."""

    certificate: bytes
    key: bytes
    ca: bytes


@dataclass(frozen=True, config=SECTION)
class LogSettings(Section):
    """How the accountability log is integrated, published and read back."""

    # Whether this process may lead its region: integrate and checkpoint the log, ask for cosignatures, sweep.
    # Replicas sharing one database elect one leader among those that may (false: this process never leads).
    sequencer: StrictBool = True
    # How often a replica that does not lead tries to take over: a dead leader is replaced within about this.
    leader_retry_seconds: float = seconds(0.5, most=60)
    integrate_interval_seconds: float = seconds(0.2, most=60)
    # A checkpoint is published within this long of new activity, or after this many new leaves.
    checkpoint_interval_seconds: float = seconds(1.0, most=3600)
    checkpoint_every_leaves: int = whole(10_000, least=1)
    # How often the sequencing process asks peers to cosign its latest checkpoint (when federated).
    witness_interval_seconds: float = seconds(1.0, most=3600)
    # How far back a subject's "who looked at me" reaches (FCRA 1681g(a)(3): two years for employment).
    history_days: int = whole(730, least=1)
    # After this long an event's personal payload may be redacted (``audit redact``); its leaf hash stays.
    # Default: five years, as the Credit Reporting Industry Regulation (Art. 16) keeps negative information.
    redact_after_days: int = whole(1825, least=1)


@dataclass(frozen=True, config=SECTION)
class ProcedureSettings(Section):
    """Deadlines of the procedures and the calendar they are counted in (DOMAIN.md defaults)."""

    # Public holidays and weekend days worked in return, as the State Council publishes them each year.
    holidays: tuple[Day, ...] = ()
    working_days: tuple[Day, ...] = ()
    # 2025 No. 22 as the provincial portals state it: the whole repair course, application to result, takes at
    # most 10 working days; inside it the department decides within 3 working days of receiving the application.
    repair_total_working_days: int = whole(10, least=1)
    repair_decision_working_days: int = whole(3, least=1)
    # The longest extension of a complex repair case (unverified: no source in hand sets it).
    repair_extension_working_days: int = whole(10, least=0)
    # Calendar days to answer a dispute where the catalog sets no time for the record's type (the catalog's
    # own default is 20: Credit Reporting Industry Regulation Art. 25).
    dispute_answer_days: int = whole(20, least=1)
    # A listing whose underlying decision is revoked is removed within 3 working days.
    revoked_listing_removal_working_days: int = whole(3, least=1)
    # How often records past their disclosure period are marked expired, and run-out listings ended.
    sweep_interval_seconds: float = seconds(60.0, most=86400)

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, raw: Any) -> Any:
        """The old name of the whole course's deadline, still read from older node.yaml files."""
        if isinstance(raw, dict) and "repair_reply_working_days" in raw:
            raw = dict(raw)
            raw.setdefault("repair_total_working_days", raw.pop("repair_reply_working_days"))
        return raw

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.of(self.holidays, self.working_days)

    def repair_deadlines(self) -> RepairDeadlines:
        return RepairDeadlines(
            self.repair_total_working_days, self.repair_decision_working_days, self.repair_extension_working_days
        )


def require_seconds(name: str, value: object, most: float) -> None:
    """A value in seconds checked outside a section: a finite number above 0 and at most ``most``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and 0 < value <= most)
    ):
        raise ValueError(f"{name} must be a number of seconds above 0 and at most {most:g}")


@dataclass(frozen=True, config=SECTION)
class FederationSettings(Section):
    """How this node deals with its peers' clocks."""

    # How far two nodes' clocks may disagree: every time one node compares with another's (a forwarded inquiry's
    # freshness and the grant it vouches for). The default is the replay window of peer inquiries (60 s). Zero
    # would refuse every inquiry from a clock a microsecond off; over an hour, replays live long.
    clock_skew_seconds: float = seconds(60.0, most=3600)
    # The longest this node waits for one peer's answer to a federated inquiry (the client's deadline may be
    # shorter): a region slower than this is reported ``timeout``.
    peer_timeout_seconds: float = seconds(5.0, most=600)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)


@dataclass(frozen=True, config=SECTION)
class RevocationWatchSettings(Section):
    """Revocations pushed to requesters (``InquiryService.WatchRevocations``, README "Revocations pushed")."""

    # A requester acknowledges a revocation within this long of the node keeping it; a later acknowledgement is
    # reported to officers. One day is this project's choice, not a regulator's: 2025 No. 22 wants repair results
    # everywhere "at the same time" but names no time for a recipient to act on them.
    acknowledge_within_seconds: float = seconds(86400.0, most=31 * 86400)
    # Revocations held for one watcher that has not taken them; past this it reads from its cursor instead.
    queue_size: int = whole(256, least=1)
    # How often a process looks for revocations another replica kept (one query, only while anyone watches).
    reread_seconds: float = seconds(2.0, most=3600)
    # Watches one requester may hold open at once at this process (each holds up to ``queue_size`` revocations).
    watches_per_requester: int = whole(4, least=1)

    @property
    def acknowledge_within(self) -> timedelta:
        return timedelta(seconds=self.acknowledge_within_seconds)


@dataclass(frozen=True, config=SECTION)
class TrustSettings(Section):
    """How early a node warns that its trust material (manifest, certificates) runs out (README "Expiry warnings")."""

    # Warn this many days before an artefact expires (the default: 30). Shorter than the lifetime the
    # authority signs manifests for, or the node warns from the day a manifest is installed. Zero would warn only
    # once it is too late; over a year would warn about every certificate all the time.
    expiry_warning_days: int = whole(DEFAULT_HORIZON_DAYS, least=1, most=365)

    @property
    def expiry_horizon(self) -> timedelta:
        return timedelta(days=self.expiry_warning_days)


@dataclass(frozen=True, config=SECTION)
class QuotaOverride:
    """One grant's own limits (requester URI and purpose), replacing the catalog's for that pair only."""

    requester: StrictStr
    purpose: StrictStr
    limits: tuple[tuple[QuotaName, Annotated[int, Field(strict=True, ge=1)]], ...]

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, raw: Any) -> Any:
        """node.yaml writes an override flat: requester, purpose and the limits it sets (``per_day: 3``)."""
        if isinstance(raw, dict) and "limits" not in raw:
            limits = [(name, raw[name]) for name in QUOTA_FIELDS if name in raw]
            for name, value in limits:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
            raw = {k: v for k, v in raw.items() if k not in QUOTA_FIELDS} | {"limits": limits}
        return raw


@dataclass(frozen=True, config=SECTION)
class QuotaSettings(Section):
    """How a node holds requesters to their purposes' quotas (README, "Quotas and harvesting")."""

    # Calls one identity may have in flight at once at this process (a peer region: this times region_factor).
    concurrent_calls: int = whole(8, least=1)
    # A peer region's total per purpose, as a multiple of one requester's: it asks for many requesters.
    region_factor: int = whole(50, least=1)
    # The most tokens one lease takes from the shared bucket (and so the most one replica may hold unspent).
    lease_batch_most: int = whole(100, least=1)
    # A requester refused more than this many times in its harvesting window is answered slowly: each further
    # refusal waits ``slow_refusal_seconds`` (at most its retry delay) before it goes back. A client that keeps
    # pushing past its quota then holds its own connections instead of the node's cores (a tarpit).
    slow_refusals_after: int = whole(20, least=1)
    slow_refusal_seconds: float = seconds(1.0, most=60)
    overrides: tuple[QuotaOverride, ...] = ()
    harvesting: HarvestingThresholds = field(default_factory=HarvestingThresholds)


# The file writes the TLS files as one section; the node keeps them as three settings.
_TLS_KEYS = {"certificate": "tls_certificate", "key": "tls_key", "ca": "ca_certificate"}
_FILE_KEYS = {setting: f"tls.{key}" for key, setting in _TLS_KEYS.items()}


@dataclass(frozen=True, config=SECTION)
class NodeConfig:
    """A node's settings. Built only through their checks: by ``load``, or ``dataclasses.replace`` on a loaded one."""

    region: Region
    listen: ListenAddress
    database: DatabaseUrl
    tls_certificate: ConfigPath
    tls_key: ConfigPath
    ca_certificate: ConfigPath
    signing_key: ConfigPath
    authority_key: ConfigPath
    catalog: ConfigPath
    public_listen: ListenAddress | None = None
    public_plaintext: StrictBool = False
    max_message_bytes: int = whole(1 << 20, least=1024, most=1 << 30)
    principal_ttl_seconds: float = seconds(2.0, most=86400)
    sqlite_synchronous: SqliteSynchronous = "FULL"
    # The federation manifest; without one the node serves its region only.
    manifest: ConfigPath | None = None
    # The key this node cosigns its peers' checkpoints with (c2sp.org/tlog-cosignature); without one it witnesses
    # nothing. Distinct from ``signing_key``: a witness statement must not be confusable with the node's own.
    witness_key: ConfigPath | None = None
    # The authority's certificate revocation list, watched: a newer one written there is installed
    # within ``revocation_poll_seconds``, without a restart (so are a newer ``manifest`` and ``catalog``).
    revocation_list: ConfigPath | None = None
    revocation_poll_seconds: float = seconds(5.0, most=3600)
    # Refused calls of one kind and reason from one caller (a peer's, a revoked certificate's): the first is
    # logged at once, the rest as one event with their count per this many seconds.
    refusal_window_seconds: float = seconds(60.0, most=86400)
    # The administrators (sgw:// identity URIs) whose certificates, carrying the administrator role, may change
    # this node's grants; empty: any certificate of the federation CA with the role. One CA serves the whole
    # federation, so naming them keeps another region's administrator out.
    administrators: tuple[Administrator, ...] = ()
    log: LogSettings = field(default_factory=LogSettings)
    procedures: ProcedureSettings = field(default_factory=ProcedureSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    quotas: QuotaSettings = field(default_factory=QuotaSettings)
    revocation_watch: RevocationWatchSettings = field(default_factory=RevocationWatchSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    connections: ConnectionSettings = field(default_factory=ConnectionSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    shutdown: ShutdownSettings = field(default_factory=ShutdownSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)

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
    def load(cls, path: Path, environ: Mapping[str, str] | None = None) -> NodeConfig:
        """The node's settings: ``path`` overlaid with ``SHARE_GATEWAY_*`` variables of ``environ`` (default: the
        process's) and secret files; ``ConfigError`` in one line naming the key and what is wrong."""
        base = path.resolve().parent
        raw = read_yaml(path)
        where: Where = {}
        try:
            apply_environment(raw, os.environ if environ is None else environ, where)
            read_secrets(raw, base, where, _PATH_KEYS)
            drop_empty(raw)
            _flatten_tls(raw, where)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from error
        try:
            return TypeAdapter(cls).validate_python(raw, context={"base": base})
        except ValidationError as error:
            raise describe(error, str(path), where, _FILE_KEYS) from error


SECTION_KEYS.update({str(f.type): f.name for f in dataclasses.fields(NodeConfig) if "Settings" in str(f.type)})

# The settings that are a file's path (a secret file may not stand in for them), as the file writes them.
_PATH_KEYS = frozenset(
    tuple(_FILE_KEYS.get(f.name, f.name).split("."))
    for f in dataclasses.fields(NodeConfig)
    if "ConfigPath" in str(f.type)
)


def _flatten_tls(raw: dict[str, Any], where: Where) -> None:
    """``tls: {certificate, key, ca}`` as the node's three settings."""
    tls = raw.pop("tls", {})
    if not isinstance(tls, dict):
        raise ConfigError("tls: must be a section (certificate, key, ca)")
    for key, value in tls.items():
        if key not in _TLS_KEYS:
            raise ConfigError(f"{where.get(('tls', key), f'tls.{key}')}: unknown setting")
        raw[_TLS_KEYS[key]] = value
        if ("tls", key) in where:
            where[(_TLS_KEYS[key],)] = where[("tls", key)]
