"""A platform: one process serving several tenants, each from its own configuration file.

Each file is one tenant's complete configuration, the same format as a single-tenant process's (a file that runs
alone runs in a platform unchanged). What the process has only one of must be the same in every file: ``[redis]``
(one connection pool; tenants' keys are apart under ``<prefix>:<tenant>:``), ``[http]`` (one server; the bearer
token picks the tenant) and ``[log]``. What identifies a tenant must differ: ``app.tenant``, ``app.app_name`` (its
Stasis application in Asterisk), every API token (a token names exactly one tenant) and the ``acd.queue_log`` file.
Every problem names the file and the key path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from callcenter_ari.config import Config, ConfigError, load

# The sections a process has one of, and why they must agree.
SHARED = {
    "redis": "one Redis connection pool serves every tenant",
    "http": "one HTTP server serves every tenant",
    "log": "one log stream serves every tenant",
}


@dataclass(frozen=True)
class TenantFile:
    path: str
    config: Config


def load_platform(paths: Sequence[str | Path], environ: Mapping[str, str] | None = None) -> list[TenantFile]:
    """Read and validate each tenant's file, then check them against each other."""
    files: list[TenantFile] = []
    problems: list[str] = []
    for path in paths:
        try:
            files.append(TenantFile(str(path), load(path, environ)))
        except ConfigError as exc:
            problems += [line if line.startswith(f"{path}:") else f"{path}: {line}" for line in str(exc).splitlines()]
    if problems:
        raise ConfigError("\n".join(problems))
    check_platform(files)
    return files


def check_platform(files: Sequence[TenantFile]) -> None:
    """The files can be served together: shared sections agree, tenants' identities are distinct."""
    if not files:
        raise ConfigError("a platform needs at least one tenant's configuration file")
    problems = _shared_sections_differ(files)
    problems += _distinct(files, "app.tenant", lambda c: c.app.tenant, "the tenant of")
    problems += _distinct(files, "app.app_name", lambda c: c.app.app_name, "the Stasis application of")
    problems += _distinct(files, "acd.queue_log", lambda c: c.acd.queue_log, "the queue log of")
    problems += _tokens(files)
    if problems:
        raise ConfigError("\n".join(problems))


def _shared_sections_differ(files: Sequence[TenantFile]) -> list[str]:
    first, problems = files[0], []
    for section, why in SHARED.items():
        expected = getattr(first.config, section)
        for tenant in files[1:]:
            found = getattr(tenant.config, section)
            for field in expected.__struct_fields__:
                # Values are not shown: the Redis URL may hold a password.
                if getattr(found, field) != getattr(expected, field):
                    problems.append(f"{tenant.path}: {section}.{field}: differs from {first.path} ({why})")
    return problems


def _distinct(files: Sequence[TenantFile], key: str, value_of: Callable[[Config], str], what: str) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for tenant in files:
        value = value_of(tenant.config)
        if not value:
            continue
        if value in seen:
            problems.append(f"{tenant.path}: {key}: {value!r} is already {what} {seen[value]}")
        else:
            seen[value] = tenant.path
    return problems


def _tokens(files: Sequence[TenantFile]) -> list[str]:
    """A token value is in one file only, and a file grants tokens of its own tenant (or of none served here)."""
    served = {tenant.config.app.tenant for tenant in files}
    # Compared by digest, never printed: an error names the tokens, not their values.
    seen: dict[bytes, tuple[str, str]] = {}
    problems = []
    for tenant in files:
        own = tenant.config.app.tenant
        for name, token in tenant.config.api.tokens.items():
            where = f"{tenant.path}: api.tokens.{name}"
            digest = hashlib.sha256(token.token.encode("utf-8", "surrogatepass")).digest()
            path, other = seen.setdefault(digest, (tenant.path, name))
            if path != tenant.path:
                problems.append(
                    f"{where}.token: the same token as {path}'s api.tokens.{other} (a token must name one tenant)"
                )
            if token.tenant and token.tenant != own and token.tenant in served:
                problems.append(
                    f"{where}.tenant: {token.tenant!r} is another tenant of this platform "
                    "(a tenant's file grants tokens for its own tenant only)"
                )
    return problems
