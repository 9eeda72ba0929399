"""The event contract over HTTP: every event's `dataschema` URL resolves.

Each schema is served at the path of its `$id` (`/schemas/events/<type>.json`), and the AsyncAPI
document beside them at `/schemas/asyncapi.yaml`, so its relative `$ref`s resolve over HTTP too.
The portal mounts this router: it answers on the platform's public host (the `$id`s' host),
needs no token, and depends on no database or broker (docs/operations.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import Response

from emm_common import contract

# v1 schemas change only by addition, so a day-old copy is still right about every event it names.
CACHE_CONTROL = "public, max-age=3600"
MEDIA_TYPES = {".json": "application/schema+json", ".yaml": "application/yaml"}


def published_files() -> dict[str, Path]:
    """URL path -> file: each event schema at its `$id`'s path, the AsyncAPI document beside them."""
    files = {urlparse(spec.dataschema).path: contract.schemas_dir() / "events" / f"{spec.type}.json"
             for spec in contract.catalog().values()}
    for schemas_folder in {PurePosixPath(path).parent.parent for path in files}:
        files[str(schemas_folder / "asyncapi.yaml")] = contract.schemas_dir() / "asyncapi.yaml"
    return files


def router() -> APIRouter:
    """GET (and HEAD) of every published contract file, with an ETag (a 304 when it matches) and
    `Access-Control-Allow-Origin: *`: public documents that browser-based tools may fetch too."""
    routes = APIRouter()
    for path, file in published_files().items():
        routes.add_api_route(path, document_endpoint(file.read_bytes(), MEDIA_TYPES[file.suffix]),
                             methods=["GET", "HEAD"], include_in_schema=False)
    return routes


def document_endpoint(body: bytes, media_type: str):
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"etag": etag, "cache-control": CACHE_CONTROL, "access-control-allow-origin": "*"}

    async def serve(request: Request) -> Response:
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    return serve
