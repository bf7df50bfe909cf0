"""Where a node's settings come from, and how a wrong one is reported: in one line naming the key.

Three sources, later ones winning: ``node.yaml``; environment variables ``SHARE_GATEWAY_<KEY>`` (``__`` between a
section and its key: ``SHARE_GATEWAY_LOG__CHECKPOINT_EVERY_LEAVES``), each value read as YAML as it would be written
in the file (text YAML cannot read stays text); and secret files (``<key>_file: path`` in the file, or
``SHARE_GATEWAY_<KEY>_FILE``), whose whole text (less a final newline) is the value, as Kubernetes mounts a Secret.
``config.py`` declares the settings; this module only gathers their raw values and words pydantic's complaints.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    # yaml and pydantic load where a configuration is read: every CLI command imports ConfigError to report it.
    import yaml
    from pydantic import ValidationError

ENV_PREFIX = "SHARE_GATEWAY_"
# Variables of the project's own tools that share the prefix and are no node setting.
NOT_SETTINGS = ("SHARE_GATEWAY_TEST_",)
SECRET_SUFFIX = "_file"  # noqa: S105 (the suffix naming a secret file, no secret)
# Settings whose value is never echoed in an error: it may hold a password (nor is any read from a secret file).
UNECHOED = frozenset({"database"})
SECRET = "secret"  # noqa: S105 (the word marking a value read from a secret file in a message)


class ConfigError(ValueError):
    """A configuration that cannot run a node, said in one line naming the key and what is wrong."""


Where = dict[tuple[str, ...], str]
"""Where a value came from when not the file itself: key path → variable or secret file, for the message."""


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; a missing file, a YAML error or another shape is one line."""
    import yaml  # noqa: PLC0415 (loaded where a file is read, not by every CLI command)

    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(error)}") from error
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a mapping of settings (key: value), not a {type(raw).__name__}")
    return raw


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else str(problem)


def apply_environment(raw: dict[str, Any], environ: Mapping[str, str], where: Where) -> None:
    """Overlay ``SHARE_GATEWAY_*`` variables on ``raw``; a value replaces the key's secret file and the reverse."""
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name.startswith(NOT_SETTINGS):
            continue
        keys = tuple(part.lower() for part in name.removeprefix(ENV_PREFIX).split("__"))
        if not all(keys):
            raise ConfigError(f"{name}: not a setting name (SHARE_GATEWAY_SECTION__KEY)")
        value = _variable_value(environ[name])
        section = raw
        for depth, key in enumerate(keys[:-1]):
            inner = section.setdefault(key, {})
            if inner is None:
                inner = section[key] = {}
            if not isinstance(inner, dict):
                raise ConfigError(f"{name}: {'.'.join(keys[: depth + 1])} is no section")
            section = inner
        last = keys[-1]
        section.pop(last.removesuffix(SECRET_SUFFIX) if last.endswith(SECRET_SUFFIX) else last + SECRET_SUFFIX, None)
        section[last] = value
        where[keys] = name


def _variable_value(text: str) -> Any:
    """A variable's value read as YAML (``true``, ``500``, ``[a, b]``; empty: the default); text YAML cannot read
    (``[::]:7443``) stays text, and the setting's own check then says whether it fits."""
    import yaml  # noqa: PLC0415 (loaded where a file is read, not by every CLI command)

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def read_secrets(
    raw: dict[str, Any], base: Path, where: Where, paths: frozenset[tuple[str, ...]], keys: tuple[str, ...] = ()
) -> None:
    """Replace every ``<key>_file: path`` (relative to ``base``) by ``<key>``: the file's text, final newline off.

    Not for a setting that is itself a file's path (``paths``: ``signing_key``, ``tls.key``): its file's text
    would be taken for a path, and a key's PEM shown in the error that followed."""
    for name in [k for k in raw if isinstance(k, str)]:
        value = raw[name]
        if isinstance(value, dict):
            read_secrets(value, base, where, paths, (*keys, name))
            continue
        if not name.endswith(SECRET_SUFFIX):
            continue
        key = name.removesuffix(SECRET_SUFFIX)
        told = where.get((*keys, name), ".".join((*keys, name)))
        if (*keys, key) in paths:
            setting = ".".join((*keys, key))
            raise ConfigError(f"{told}: {setting} is already a file's path: give the path as {setting} itself")
        if key in raw:
            raise ConfigError(f"{told}: give {'.'.join((*keys, key))} or its secret file, not both")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{told}: must be the path of a file holding the value")
        path = Path(value) if Path(value).is_absolute() else base / value
        try:
            raw[key] = path.read_text().removesuffix("\n").removesuffix("\r")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not text"
            raise ConfigError(f"{told}: cannot read {path}: {reason}") from error
        del raw[name]
        where[(*keys, key)] = f"{SECRET} {told} {path}"


def drop_empty(raw: dict[str, Any]) -> None:
    """A key left empty (``log:`` with every line below it commented out) takes its default."""
    for key in [k for k, v in raw.items() if v is None]:
        del raw[key]
    for value in raw.values():
        if isinstance(value, dict):
            drop_empty(value)


# Pydantic's error types, as this project words them: what the key must be.
_MUST = {
    "missing": "is required",
    "extra_forbidden": "unknown setting",
    "unexpected_keyword_argument": "unknown setting",
    "bool_type": "must be true or false (unquoted)",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a text",
    "path_type": "must be a path",
    "tuple_type": "must be a list",
    "dict_type": "must be a section (key: value)",
    "dataclass_type": "must be a section (key: value)",
    "greater_than": "must be above {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be below {lt}",
    "literal_error": "must be {expected}",
}


def describe(
    error: ValidationError, source: str, where: Where, renamed: Mapping[str, str], within: str = ""
) -> ConfigError:
    """Pydantic's complaints as one line: ``source: key: what is wrong, not <value>``; ``renamed`` maps a
    field's name back to the key the file writes (``tls_certificate`` → ``tls.certificate``); ``within`` is the
    section a section's own errors are in."""
    parts = []
    for detail in error.errors(include_url=False):
        loc = tuple(str(part) for part in detail["loc"])
        loc = (within, *loc) if within else loc
        key = ".".join(renamed.get(part, part) for part in loc) or "settings"
        template = _MUST.get(detail["type"])
        ctx = {name: _number(value) for name, value in (detail.get("ctx") or {}).items()}
        what = template.format(**ctx) if template else str(detail["msg"]).removeprefix("Value error, ")
        value = detail.get("input")
        origin = next((where[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in where), None)
        echoed = template and detail["type"] not in {"missing", "extra_forbidden", "unexpected_keyword_argument"}
        secret = UNECHOED.intersection(loc) or (origin or "").startswith(SECRET)
        if echoed and not secret and not isinstance(value, dict | list | tuple):
            what += f", not {value!r}"
        parts.append(f"{key} (from {origin}): {what}" if origin else f"{key}: {what}")
    return ConfigError(f"{source}: {'; '.join(parts)}" if source else "; ".join(parts))


def _number(value: object) -> object:
    """``3600.0`` as ``3600`` in a message."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The key each section is read under in the file (``NodeConfig`` fills it in: it gathers the sections, after them).
SECTION_KEYS: dict[str, str] = {}


class Section:
    """``from_mapping``: one section read on its own (its errors name keys within it)."""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Self:
        from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415 (loaded where a configuration is read)

        try:
            return TypeAdapter(cls).validate_python(dict(raw))
        except ValidationError as error:
            raise describe(error, "", {}, {}, within=SECTION_KEYS.get(cls.__name__, "")) from error
