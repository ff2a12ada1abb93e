"""Property-based fuzzing of the ledger's HTTP API from its OpenAPI document: against a
running ledger holding a real story, every generated request is answered with a status
the document lists for the route, never a 5xx, and every refusal has the refusal shape
``{status, title, errors: [{field, rule, message}]}``.

Requests come from the document alone: each operation's path and query parameters, drawn
from their schemas (enums, whole numbers, dates) or as any text, any whole number (negative,
beyond 64 bits), or left out; some carry a parameter the document does not know.
Examples per operation: ``CARELEDGER_FUZZ_EXAMPLES`` (default 40; set, runs are randomised)."""

import asyncio
import base64
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.entrypoints.openapi import openapi_document
from careledger.ledger.settings import Settings
from tests.integration.conftest import RunningIntake
from tests.integration.test_intake_fuzz import in_thread
from tests.support.nats import service_settings
from tests.support.scenario import Story

Client = AsyncTestClient[Any]
Json = Any
EXAMPLES = int(os.environ.get("CARELEDGER_FUZZ_EXAMPLES", "40"))
DOCUMENT = openapi_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
OPERATIONS = sorted((path, method) for path, ops in DOCUMENT["paths"].items() for method in ops)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
EDGES = [-(2**63) - 1, -(2**63), 2**31, 2**63 - 1, 2**63, 2**64, 10**30]
EDGE = st.sampled_from(EDGES)
NUMBERS = st.one_of(st.integers(-3, 30), EDGE, EDGE, st.integers(-(2**70), 2**70)).map(str)


@pytest.fixture
async def ledger(intake: RunningIntake, tmp_path: Path) -> AsyncIterator[tuple[Story, Client]]:
    """A running ledger that applied the whole scenario, exporting under tmp_path."""
    story = Story()
    commands = story.commands()
    for n, (command, payload) in enumerate(commands):
        reply = await intake.post(command, payload, f"fuzz-{story.subject_id}-{n}")
        assert reply.status_code == 201, reply.text
    settings = Settings(
        **service_settings(intake.server, "ledger"),
        db_path=tmp_path / "ledger.duckdb",
        export_dir=tmp_path / "exports",
        auditors_file=intake.principals.auditors_file,
        checkpoint_key_file=intake.principals.checkpoint_key_file,
    )
    environ = {"CARELEDGER_MASTER_KEY": base64.b64encode(intake.master_key).decode()}
    async with AsyncTestClient(LedgerService(settings, environ).http_app()) as client:
        client.headers.update(intake.principals.auditor_headers())
        for _ in range(200):
            if (await client.get("/v1/ledger/position")).json()["ledger_sequence"] >= len(commands):
                break
            await asyncio.sleep(0.05)
        yield story, client


INSTANTS = ["now", "2026-11-01T00:00:00Z", "2000-01-01T00:00:00+01:00", "2100-01-01T00:00:00Z"]


def typed(name: str, schema: Json, story: Story) -> st.SearchStrategy[str]:
    """A value a client following the document would send: its enum, a whole number (up to
    the edges of 64 bits), a date, an instant, or an id and purpose of the story."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if schema.get("type") == "integer":
        return NUMBERS
    if schema.get("format") == "date":
        return st.dates().map(str)
    known = {
        "subject_id": [story.subject_id, story.complaint_id],
        "purpose": ["call_recording", "marketing", "an audit of the consent records"],
        "as_of": INSTANTS,
        "at": INSTANTS,
    }
    return st.sampled_from(known.get(name, [story.subject_id, "now"]))


@st.composite
def requests(draw: st.DrawFn, story: Story, path: str, method: str) -> tuple[str, list[Any]]:
    """(url, query) of a request to one operation of the document: every parameter as the
    document says, but at most one, which is any text or number, or left out."""
    parameters = DOCUMENT["paths"][path][method]["parameters"]
    hostile = draw(st.integers(-1, len(parameters) - 1))
    url, query = path, []
    for n, param in enumerate(parameters):
        name, schema = param["name"], param["schema"]
        if n == hostile:
            value = draw(st.one_of(TEXT, NUMBERS, st.none()))
        elif param["required"] or draw(st.booleans()):
            value = draw(typed(name, schema, story))
        else:
            value = None
        if param["in"] == "path":
            value = value or draw(typed(name, schema, story))
            url = url.replace("{" + name + "}", quote(value, safe=""))
        elif schema.get("type") == "object":  # exact-value filters: a known column, or any
            filters = st.sampled_from(["subject_id", "status", "state", "channel"])
            if n == hostile:
                filters = filters | TEXT
            pairs = st.tuples(filters, typed("subject_id", STR_SCHEMA, story) | TEXT)
            query += draw(st.lists(pairs, max_size=2))
        elif value is not None:
            query.append((name, value))
    if hostile == -1 and draw(st.integers(0, 9)) == 0:
        query.append((draw(TEXT), draw(TEXT)))
    return url, query


STR_SCHEMA: Json = {"type": "string"}


def check_body(response: Any, answer: Json, said: str) -> None:
    """A JSON answer has the required fields of its documented schema."""
    media = response.headers["content-type"].split(";")[0]
    assert media in answer["content"], said
    schema = answer["content"][media]["schema"]
    if "$ref" not in schema:
        return
    schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    body = response.json()
    assert set(schema.get("required", ())) <= set(body), said
    if "errors" in schema.get("required", ()):
        assert body["status"] == response.status_code, said
        for error in body["errors"]:
            assert set(error) == {"field", "rule", "message"}, said


async def test_fuzzed_requests_from_the_openapi_document_never_get_a_server_error(
    ledger: tuple[Story, Client],
) -> None:
    story, client = ledger
    statuses: Counter[tuple[str, int]] = Counter()
    unavailable: list[str] = []  # documented; a ledger applying, with a vault key, answers
    started = time.monotonic()

    def run(call: Any) -> None:
        for path, method in OPERATIONS:
            fuzz_one(call, path, method)

    def fuzz_one(call: Any, path: str, method: str) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize="CARELEDGER_FUZZ_EXAMPLES" not in os.environ,
            suppress_health_check=list(HealthCheck),
        )
        @given(requests(story, path, method))
        def fuzz(request: tuple[str, list[Any]]) -> None:
            url, query = request
            response = call(client.request(method.upper(), url, params=query))
            status = response.status_code
            statuses[(f"{method.upper()} {path}", status)] += 1
            said = f"{method.upper()} {url} {query} -> {status} {response.text[:400]}"
            if status == 503:
                unavailable.append(said)
            assert status < 500 or status == 503, said
            answers = DOCUMENT["paths"][path][method]["responses"]
            assert str(status) in answers, said
            check_body(response, answers[str(status)], said)

        fuzz()

    await in_thread(run)
    tried = {route for route, _ in statuses}
    assert tried == {f"{m.upper()} {p}" for p, m in OPERATIONS}, "an operation was never tried"
    assert unavailable == []
    print(
        f"\nledger fuzz: {sum(statuses.values())} requests over {len(tried)} operations "
        f"in {time.monotonic() - started:.1f}s; statuses "
        f"{dict(sorted(Counter(s for _, s in statuses.elements()).items()))}"
    )


BEYOND = str(2**63)  # one past the largest 64-bit integer DuckDB binds
HOSTILE = {
    "offset past 64 bits": "/v1/registers/contacts?offset=" + BEYOND,
    "offset past 64 bits, as of now": "/v1/registers/consents?as_of=now&offset=" + BEYOND,
    "inclusion of a sequence past 64 bits": "/v1/ledger/proofs/inclusion?sequence=" + BEYOND,
    "consistency from a size past 64 bits": "/v1/ledger/proofs/consistency?from=" + BEYOND,
}
ACCESS_SUBJECT = "/v1/subjects/{}/personal-data?purpose=an+audit+of+consents"


@pytest.mark.parametrize("subject_id", ["a.b", "a%20b", "%3E", "%2A", "ab" * 40])
async def test_personal_data_of_a_subject_id_that_is_no_id_is_refused_before_any_access_record(
    ledger: tuple[Story, Client], subject_id: str
) -> None:
    """The subject id names the access log's NATS subject: one with a dot, a space or a
    wildcard made recording the read fail, a 503, before it was checked."""
    _, client = ledger
    response = await client.get(ACCESS_SUBJECT.format(subject_id))
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0] == {
        "field": "subject_id",
        "rule": "pattern",
        "message": "subject_id is a lowercase UUID or a ULID",
    }


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_number_past_64_bits_is_refused_naming_its_parameter(
    ledger: tuple[Story, Client], name: str
) -> None:
    _, client = ledger
    response = await client.get(HOSTILE[name])
    assert response.status_code in (400, 404), f"{name}: {response.status_code} {response.text}"
    body = response.json()
    assert body["status"] == response.status_code and body["errors"][0]["field"] in name.split()
