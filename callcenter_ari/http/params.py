"""The annotations route handlers share: the injected dependencies and the path identifiers."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import PathParameter

from callcenter_ari.http.auth import Principal
from callcenter_ari.http.deps import ApiDeps
from callcenter_ari.store.keys import ID_PATTERN

Deps = NamedDependency[ApiDeps]  # the services of the token's tenant (``build_app`` provides them)
Caller = NamedDependency[Principal]  # who is calling (the bearer token's principal)
# An object's id in the path. The document gives the pattern every id follows; an id that does not follow it names
# nothing, and the store says so (404), as for any id that names nothing.
Id = Annotated[str, PathParameter(min_length=1, max_length=128, schema_extra={"pattern": ID_PATTERN})]
