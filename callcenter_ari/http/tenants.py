"""The tenants one HTTP server serves: each request sees the services of its bearer token's tenant.

A single-tenant process is the case of one. A token of a tenant not served here sees the services of the tenant
that declared it, as a stranger (``Principal.home`` false): the routes then show nothing and change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from callcenter_ari.http.auth import Principal, TokenTable
from callcenter_ari.http.deps import ApiDeps


class Tenants:
    def __init__(self, served: Sequence[ApiDeps]) -> None:
        if not served:
            raise ValueError("an HTTP server needs at least one tenant to serve")
        self._deps = {deps.tenant: deps for deps in served}
        if len(self._deps) != len(served):
            raise ValueError("each tenant is served once")
        self.tokens = TokenTable({deps.tenant: deps.tokens for deps in served})

    def deps_for(self, principal: Principal) -> ApiDeps:
        return self._deps[principal.tenant if principal.home else principal.issuer]

    def ready(self) -> bool:
        """Every tenant can take calls (its ARI connection is up and it is not draining)."""
        return all(deps.is_ready() for deps in self._deps.values())

    def roles(self) -> dict[str, str]:
        """Each tenant's part in a hot standby pair: active, standby or stepped_down."""
        return {tenant: deps.role() for tenant, deps in self._deps.items()}

    def role(self) -> str:
        """The process's: the tenants' one role, or ``mixed``."""
        roles = set(self.roles().values())
        return roles.pop() if len(roles) == 1 else "mixed"
