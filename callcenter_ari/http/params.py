"""The annotations route handlers share: the injected dependencies and the path identifiers."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import PathParameter

from callcenter_ari.http.auth import Principal
from callcenter_ari.http.deps import ApiDeps

Deps = NamedDependency[ApiDeps]  # the services of the token's tenant (``build_app`` provides them)
Caller = NamedDependency[Principal]  # who is calling (the bearer token's principal)
Id = Annotated[str, PathParameter(min_length=1, max_length=128)]  # an object's id in the path
