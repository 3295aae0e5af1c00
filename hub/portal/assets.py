"""The portal's static files, with the cache headers their paths allow."""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: The portal's own styles change with the hub; an hour keeps a release visible the same day.
OWN_MAX_AGE = 3600


class Assets(StaticFiles):
    """``StaticFiles`` that says how long each file may be cached.

    Vendored files live under a path naming their version, so one path always holds the same
    bytes and may be kept for a year.
    """

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if self.get_path(scope).startswith("vendor" + os.sep):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = f"public, max-age={OWN_MAX_AGE}"
        return response
