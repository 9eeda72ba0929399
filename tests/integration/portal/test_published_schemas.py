"""Every event's `dataschema` URL resolves: the portal, a real process, serves each schema at the
path its `$id` names, and the AsyncAPI document beside them with references that resolve over HTTP."""

from __future__ import annotations

from urllib.parse import urljoin, urlparse

import httpx
import pytest
import yaml

from emm_common import contract
from emm_common.auth import ensure_key_pair
from tests.processes import portal

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys / "jwt.pem", keys / "jwt.pub.pem")
    web = portal(keys).start()
    yield web
    web.stop()


def on_site(site, url: str) -> str:
    """The `$id`'s path on the portal under test (in production the `$id`'s host is the portal's)."""
    return site.url + urlparse(url).path


def test_every_event_s_dataschema_resolves_to_its_schema(site):
    for spec in contract.catalog().values():
        answer = httpx.get(on_site(site, spec.dataschema))
        assert answer.status_code == 200, spec.dataschema
        assert answer.headers["content-type"] == "application/schema+json"
        assert answer.json() == spec.schema and answer.json()["$id"] == spec.dataschema
        assert answer.headers["access-control-allow-origin"] == "*"


def test_a_cached_schema_is_revalidated_with_its_etag(site):
    url = on_site(site, contract.spec_for("org.iom.emm.session.scheduled.v1").dataschema)
    first = httpx.get(url)
    again = httpx.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert httpx.head(url).status_code == 200


def test_the_asyncapi_document_s_references_resolve_over_http(site):
    base = f"{site.url}/schemas/asyncapi.yaml"
    document = yaml.safe_load(httpx.get(base).text)
    references = [schema["allOf"][0]["$ref"] for schema in document["components"]["schemas"].values()]
    assert len(references) == len(contract.catalog())
    for reference in references:
        schema = httpx.get(urljoin(base, reference)).json()
        assert schema == contract.spec_for(schema["title"]).schema


def test_nothing_else_is_served_under_schemas(site):
    for path in ("/schemas/events/org.iom.emm.session.exploded.v1.json", "/schemas/events/../../pyproject.toml",
                 "/schemas/events/", "/schemas/"):
        assert httpx.get(site.url + path).status_code == 404, path
