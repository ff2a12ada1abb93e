"""Property-based fuzzing of intake's HTTP API: 201 or a field-level 4xx, never a 5xx.

Requests are generated from the command JSON Schemas (contracts/schemas/commands): valid
instances, mostly aimed at seeded contacts, consents and complaints so the rules get past
"never filed"; then zero to two mutations each (a field dropped, an unknown one added, a
value replaced by any JSON or by a hostile string: a Cyrillic look-alike, a trailing
newline, a null byte, a timestamp without zone, ...); one body in ten has its bytes broken
(cut short, a slice dropped or repeated, punctuation inserted); a few carry a wrong
Content-Type or Idempotency-Key. An oracle independent of intake's decoder (a small JSON
Schema validator for the keywords the command schemas use) says which bodies are valid.
For every request:

- no 5xx, and only statuses the OpenAPI document lists;
- every refusal is JSON whose ``errors[0].field`` names a field: a JSON path from ``$`` or
  a header name (``Idempotency-Key``, ``Content-Type``);
- a 201 only for a valid body with valid headers, and it appends exactly one message;
- a refusal appends nothing (the stream's message count is read after every request, and
  at the end the stream holds exactly the events of the 201 replies).

The generator keeps to realistic instants and to JSON numbers and depths a client would
send; the extremes (year 1 at +23:59, 1e400, 10 000 nested arrays, invalid UTF-8, bodies
over 64 KiB, a body that is a list, duplicate keys, ...) are hand-written hostile cases,
one test each, so that one bug fails one test.

Examples per command: ``CARELEDGER_FUZZ_EXAMPLES`` (default 250; with it set, runs are
randomised, otherwise derandomised so CI replays the same cases). Run with ``-s`` to see
the figures; they are also recorded as the ``fuzz_cases`` user property of each test.
"""

import asyncio
import copy
import datetime as dt
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]  # re's own parser: no public API
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client

from careledger.contracts.subjects import EVENT_STREAM, IDEMPOTENCY_KEY
from careledger.intake.entrypoints.openapi import openapi_document
from careledger.stack.nats_server import NatsServer
from tests.integration.conftest import RunningIntake
from tests.support.nats import connect
from tests.support.scenario import Story
from tests.support.streams import stored_messages

SCHEMAS = Path(__file__).parents[2] / "contracts" / "schemas" / "commands"
EXAMPLES = int(os.environ.get("CARELEDGER_FUZZ_EXAMPLES", "250"))
JSON = "application/json"
HEADER_FIELDS = frozenset({IDEMPOTENCY_KEY, "Content-Type"})
MAX_BODY = 64 * 1024
OPENAPI = openapi_document()
COMMANDS = "/v1/commands/"


def command_routes() -> dict[str, str]:
    """Route name -> schema name, for every command route of the OpenAPI document."""
    routes = {}
    for path, operation in OPENAPI["paths"].items():
        if path.startswith(COMMANDS):
            ref = operation["post"]["requestBody"]["content"][JSON]["schema"]["$ref"]
            routes[path.removeprefix(COMMANDS)] = ref.rsplit("/", 1)[-1]
    return routes


ROUTES = command_routes()
DOCUMENTED = {
    name: {int(code) for code in OPENAPI["paths"][COMMANDS + name]["post"]["responses"]}
    for name in ROUTES
}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="CARELEDGER_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

Json = Any
Schema = dict[str, Any]
T = TypeVar("T")


def load_schema(name: str) -> Schema:
    schema: Schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    return schema


# ---------------------------------------------------------------- the oracle


def resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


# RFC 3339 date-time. msgspec also takes a space for "T" and "+hhmm" for "+hh:mm"; the
# schema's ``format`` is an annotation in draft 2020-12, so those count as valid too.
DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):?([0-9]{2}))"
)
DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def is_date(value: str) -> bool:
    match = DATE.fullmatch(value)
    if match is None:
        return False
    try:
        dt.date(*map(int, match.groups()))
    except ValueError:
        return False
    return True


def is_date_time(value: str) -> bool:
    match = DATE_TIME.fullmatch(value)
    if match is None or not is_date(value[:10]):
        return False
    hour, minute, second = (int(g) for g in match.groups()[3:6])
    off_h, off_m = match.group(9), match.group(10)
    offset_ok = off_h is None or (int(off_h) < 24 and int(off_m) < 60)
    return hour < 24 and minute < 60 and second <= 60 and offset_ok


def conforms(value: Json, schema: Schema, root: Schema) -> bool:
    """JSON Schema validation for the keywords the command schemas use (checked below)."""
    schema = resolve(schema, root)
    if "anyOf" in schema:
        return any(conforms(value, option, root) for option in schema["anyOf"])
    if "enum" in schema and not any(
        type(value) is type(option) and value == option for option in schema["enum"]
    ):
        return False
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return False
        properties = schema.get("properties", {})
        return (
            set(schema.get("required", ())) <= value.keys()
            and (schema.get("additionalProperties", True) or value.keys() <= properties.keys())
            and all(conforms(v, properties[k], root) for k, v in value.items() if k in properties)
        )
    if kind == "array":
        return (
            isinstance(value, list)
            and schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
            and all(conforms(item, schema["items"], root) for item in value)
        )
    if kind == "boolean":
        return type(value) is bool
    if kind == "null":
        return value is None
    if kind == "string":
        return (
            isinstance(value, str)
            and schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
            and ("pattern" not in schema or re.search(schema["pattern"], value) is not None)
            and (schema.get("format") != "date-time" or is_date_time(value))
            and (schema.get("format") != "date" or is_date(value))
        )
    return kind is None


KNOWN_KEYWORDS = {
    "$ref", "$defs", "$id", "$schema", "anyOf", "enum", "type", "properties", "required",
    "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength",
    "pattern", "format", "default", "description", "title", "examples",
}  # fmt: skip


def keywords(schema: Json) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from keywords(sub)
            elif key not in ("enum", "examples", "default"):
                yield from keywords(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from keywords(item)


# ---------------------------------------------------------------- valid instances

AT, ASSERT_NOT, BRANCH, IN, LITERAL = (
    _parser.AT,
    _parser.ASSERT_NOT,
    _parser.BRANCH,
    _parser.IN,
    _parser.LITERAL,
)
MAX_REPEAT, NEGATE, RANGE, SUBPATTERN = (
    _parser.MAX_REPEAT,
    _parser.NEGATE,
    _parser.RANGE,
    _parser.SUBPATTERN,
)
OPAQUE_ID = "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9A-HJKMNP-TV-Z]{26})"
# Realistic instants; the extremes of the calendar have their own hostile cases below.
PAST = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime.now() - dt.timedelta(days=2),
    timezones=st.builds(
        dt.timezone,
        st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: dt.timedelta(minutes=m)),
    ),
)


@st.composite
def instants(draw: st.DrawFn) -> str:
    moment = draw(PAST)
    spec = draw(st.sampled_from(["seconds", "milliseconds", "microseconds"]))
    text = moment.isoformat(timespec=spec)
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


def matching(pattern: str, longest: int) -> st.SearchStrategy[str]:
    """Strings ``re.search(pattern)`` accepts: ``st.from_regex`` draws character by
    character and made generation four times slower than the requests, so runs of one
    character class are drawn as one ``st.text``. Handles the nodes the schemas use."""

    def compile_(nodes: Any) -> st.SearchStrategy[str]:
        parts = [node(op, arg) for op, arg in nodes]
        return st.tuples(*parts).map("".join)

    def char(op: Any, arg: Any) -> st.SearchStrategy[str]:
        if op is LITERAL:
            return st.just(chr(arg))
        assert op is IN, op
        negate = arg[0][0] is NEGATE
        chars = ""
        for kind, value in arg[negate:]:
            assert kind in (LITERAL, RANGE), kind
            low, high = (value, value) if kind is LITERAL else value
            chars += "".join(map(chr, range(low, high + 1)))
        if negate:
            return st.characters(codec="utf-8", exclude_characters=chars)  # no surrogates
        return st.characters(categories=(), include_characters=chars)

    def node(op: Any, arg: Any) -> st.SearchStrategy[str]:
        if op in (AT, ASSERT_NOT):  # anchors; (?!\n) holds as no class here has "\n"
            return st.just("")
        if op is SUBPATTERN:
            return compile_(arg[3])
        if op is BRANCH:
            return st.one_of([compile_(alternative) for alternative in arg[1]])
        if op is MAX_REPEAT:
            low, high, (inner,) = arg[0], min(arg[1], longest), list(arg[2])
            if inner[0] in (IN, LITERAL):
                return st.text(alphabet=char(*inner), min_size=low, max_size=high)
            return st.lists(node(*inner), min_size=low, max_size=high).map("".join)
        return char(op, arg)

    return compile_(_parser.parse(pattern))


def strings(schema: Schema, ids: list[str]) -> st.SearchStrategy[str]:
    low: int = schema.get("minLength", 0)
    high: int = schema.get("maxLength", 10_000)

    def fits(value: str) -> bool:
        return low <= len(value) <= high

    if schema.get("format") == "date-time":
        return instants()
    if schema.get("format") == "date":
        return st.dates(dt.date(1970, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
    pattern = schema.get("pattern")
    if pattern is not None and pattern.startswith(OPAQUE_ID):
        return st.one_of(st.sampled_from(ids), st.uuids().map(str), matching(pattern, high))
    if pattern is not None:
        return matching(pattern, high).filter(fits)
    return st.one_of(
        st.text(min_size=low, max_size=min(high, 40)),
        instants(),  # an untyped string may well be a timestamp (Notice.shown_at)
        st.just("x" * high) if high <= 20_000 else st.nothing(),
    )


def instances(schema: Schema, root: Schema, ids: list[str]) -> st.SearchStrategy[Json]:
    schema = resolve(schema, root)
    if "anyOf" in schema:
        return st.one_of([instances(option, root, ids) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema["properties"]
        required = schema.get("required", [])
        return st.fixed_dictionaries(
            {k: instances(properties[k], root, ids) for k in required},
            optional={
                k: instances(v, root, ids) for k, v in properties.items() if k not in required
            },
        )
    if kind == "array":
        return st.lists(
            instances(schema["items"], root, ids),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 4), 4),
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    assert kind == "string", schema
    return strings(schema, ids)


# ---------------------------------------------------------------- mutations

ANY_JSON: st.SearchStrategy[Json] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Latin letters and their Cyrillic look-alikes (written as escapes: they look the same).
LOOK_ALIKES = str.maketrans(
    "aceopxyiAEOPCHKMTBX",
    "\u0430\u0441\u0435\u043e\u0440\u0445\u0443\u0456\u0410\u0415\u041e\u0420\u0421\u041d\u041a\u041c\u0422\u0412\u0425",
)
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


def hostile_strings(value: str) -> list[str]:
    return [
        value.translate(LOOK_ALIKES) if value.translate(LOOK_ALIKES) != value else "\u0430" + value,
        value.translate(FULLWIDTH),
        value + "\n",
        "\n" + value,
        value + "\x00",
        "\x00",
        value.upper(),
        value.lower(),
        "",
        " " + value,
        value + "\u200b",
        "\u202e" + value,
        ((value or "x") * 300)[:30_000],
        "2026-01-01T10:00:00",
        "2026-01-01",
        "2025-13-01T00:00:00Z",
        "NaN",
    ]


def paths(doc: Json, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, (*at, index))


def get(doc: Json, path: tuple[Any, ...]) -> Json:
    for step in path:
        doc = doc[step]
    return doc


def put(doc: Json, path: tuple[Any, ...], value: Json) -> Json:
    if not path:
        return value
    get(doc, path[:-1])[path[-1]] = value
    return doc


@st.composite
def mutate(draw: st.DrawFn, doc: Json) -> Json:
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from(list(paths(doc))))
    target = get(doc, path)
    how = draw(st.sampled_from(["drop", "add", "replace", "hostile"]))
    if how == "drop" and path and isinstance(get(doc, path[:-1]), dict):
        del get(doc, path[:-1])[path[-1]]
    elif how == "add" and isinstance(target, dict):
        near = [k + s for k in target for s in ("s", "_", "Id")] + [k.upper() for k in target]
        key = draw(st.sampled_from(near or ["x"]) | st.text(min_size=1, max_size=10))
        target[key] = draw(ANY_JSON)
    elif how == "hostile" and isinstance(target, str):
        doc = put(doc, path, draw(st.sampled_from(hostile_strings(target))))
    else:
        doc = put(doc, path, draw(ANY_JSON))
    return doc


VALID_KEY = st.builds(lambda: f"fuzz-{uuid.uuid4().hex}")
HOSTILE_KEYS = st.sampled_from(
    [None, "", "short", "x" * 201, "has space-in-it", "tab\tin-key", "clé-unicode-ключ"]
)
CONTENT_TYPES = [JSON, f"{JSON}; charset=utf-8"]
NOT_JSON = [None, "text/plain", "application/x-www-form-urlencoded", "application/xml",
            "multipart/form-data", "application/jsonx", "application/problem+json"]  # fmt: skip


class Malformed:
    """What a body that is not JSON parses to."""


MALFORMED = Malformed()


def parse(body: bytes) -> Json:
    def refuse(token: str) -> None:
        raise ValueError(f"{token} is not JSON")

    try:
        return json.loads(body, parse_constant=refuse)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return MALFORMED


@st.composite
def corrupt(draw: st.DrawFn, body: bytes) -> bytes:
    """Break the bytes: cut them short, drop or repeat a slice, insert JSON punctuation.
    Only ASCII goes in: invalid UTF-8 has its own hostile cases below."""
    start = draw(st.integers(0, len(body)))
    end = draw(st.integers(start, min(len(body), start + 40)))
    how = draw(st.sampled_from(["cut", "drop", "repeat", "insert"]))
    if how == "cut":
        return body[:start]
    if how == "drop":
        return body[:start] + body[end:]
    if how == "repeat":
        return body[:end] + body[start:end] + body[end:]
    return body[:start] + bytes([draw(st.sampled_from(b'{}[],:"\\ 0-e.'))]) + body[start:]


@dataclass(frozen=True)
class Case:
    payload: Json
    body: bytes
    content_type: str | None
    key: str | None

    def headers(self) -> list[tuple[bytes, bytes]]:
        return raw_headers(self.content_type, self.key)


def raw_headers(content_type: str | None, key: str | None) -> list[tuple[bytes, bytes]]:
    """Headers as bytes, so a key that is not ASCII reaches intake as sent (UTF-8)."""
    headers = [] if content_type is None else [(b"Content-Type", content_type.encode())]
    if key is not None:
        headers.append((IDEMPOTENCY_KEY.encode(), key.encode()))
    return headers


@st.composite
def cases(draw: st.DrawFn, valid: st.SearchStrategy[Json], stories: list[dict[str, str]]) -> Case:
    payload = draw(valid)
    # Mostly aimed at a seeded story's ids, or the rules refuse almost everything.
    story = draw(st.sampled_from([*stories, {}]))
    payload = payload | {k: v for k, v in story.items() if k in payload}
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        payload = draw(mutate(payload))
    body = json.dumps(
        payload, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2]))
    ).encode()
    if draw(st.sampled_from([False] * 9 + [True])):
        body = draw(corrupt(json.dumps(payload).encode()))  # ASCII: cuts keep it UTF-8
        payload = parse(body)
    # Ordinary headers first: Hypothesis leans towards the first choice when it simplifies.
    transport = draw(st.sampled_from(["ordinary"] * 18 + ["not json", "bad key"]))
    content_type = draw(st.sampled_from(NOT_JSON if transport == "not json" else CONTENT_TYPES))
    key = draw(HOSTILE_KEYS if transport == "bad key" else VALID_KEY)
    return Case(payload, body, content_type, key)


# ---------------------------------------------------------------- checking a reply


def refusal_field(response: httpx.Response) -> str:
    """The field a refusal names, after checking the body has the documented shape."""
    assert response.headers["content-type"].startswith(JSON), response.headers
    body = response.json()
    assert body["status"] == response.status_code, body
    field: str = body["errors"][0]["field"]
    assert field.startswith("$") or field in HEADER_FIELDS, body
    assert body["errors"][0]["rule"] and body["errors"][0]["message"], body
    return field


def key_is_valid(key: str | None) -> bool:
    return key is not None and re.fullmatch(r"[\x21-\x7e]{8,200}", key) is not None


class Stream:
    """Counts what the event stream holds, from the test's event loop."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.nc: Client | None = None

    async def count(self) -> int:
        if self.nc is None:
            self.nc = await connect(self.server)
        info = await self.nc.jetstream().stream_info(EVENT_STREAM)
        return info.state.messages

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


Call = Callable[[Coroutine[Any, Any, Any]], Any]


async def in_thread(run: Callable[[Call], None]) -> None:
    """Run a synchronous Hypothesis test in a worker thread; its requests run on this loop."""
    loop = asyncio.get_running_loop()

    def call(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    await asyncio.to_thread(run, call)


async def seed(intake: RunningIntake, stories: int = 3) -> list[dict[str, str]]:
    """Contacts, consents and complaints (not yet acknowledged) for fuzzed ids to aim at."""
    seeded = []
    for number in range(stories):
        story = Story()
        for command, payload in story.commands()[:3]:
            response = await intake.post(command, payload, f"seed-{number}-{command}")
            assert response.status_code == 201, response.text
        seeded.append(
            {
                "subject_id": story.subject_id,
                "contact_id": story.contact_id,
                "complaint_id": story.complaint_id,
                "consent_id": story.consent_id,
            }
        )
    return seeded


# ---------------------------------------------------------------- the tests


def record(request: pytest.FixtureRequest, name: str, value: object) -> None:
    """What ``record_property`` stores (the report's user_properties), minus its warning
    under --junitxml with the default xunit2 family, which filterwarnings turns into an
    error."""
    request.node.user_properties.append((name, value))


TRIED: Counter[str] = Counter()  # requests sent by this module, for the closing figure


@pytest.fixture(scope="module", autouse=True)
def total_cases() -> Iterator[None]:
    started = time.monotonic()
    yield
    print(
        f"\nintake fuzz: {TRIED['fuzzed']} generated and {TRIED['hostile']} hostile requests "
        f"in {time.monotonic() - started:.1f}s"
    )


def test_every_command_route_of_the_openapi_document_is_fuzzed_from_its_schema() -> None:
    assert set(ROUTES) == {
        "open-contact", "close-contact", "give-consent", "withdraw-consent", "file-complaint",
        "acknowledge-complaint", "escalate-complaint", "resolve-complaint", "erase-subject",
        "extend-complaint-deadline", "record-escalation-decision",
    }  # fmt: skip
    for name in ROUTES.values():
        unknown = set(keywords(load_schema(name))) - KNOWN_KEYWORDS
        assert not unknown, f"{name}: the oracle does not know {unknown}"


@pytest.mark.parametrize("command", sorted(ROUTES))
def test_the_generator_and_the_oracle_agree_on_valid_instances(command: str) -> None:
    root = load_schema(ROUTES[command])

    @settings(FUZZ_SETTINGS, max_examples=50)
    @given(instances(root, root, ["0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f"]))
    def generated(instance: Json) -> None:
        assert conforms(instance, root, root), instance
        assert not conforms({**instance, "unknown": 1}, root, root)

    generated()


@pytest.mark.parametrize("command", sorted(ROUTES))
async def test_fuzzed_requests_get_201_or_a_field_level_4xx_and_refusals_append_nothing(
    intake: RunningIntake, command: str, request: pytest.FixtureRequest
) -> None:
    root = load_schema(ROUTES[command])
    stories = await seed(intake)
    ids = [i for story in stories for i in story.values()]
    stream = Stream(intake.server)
    before = await stream.count()
    accepted: set[str] = set()
    statuses: Counter[int] = Counter()
    rules: Counter[str] = Counter()
    started = time.monotonic()

    def run(call: Call) -> None:
        last = [before]

        @FUZZ_SETTINGS
        @given(cases(instances(root, root, ids), stories))
        def fuzz(case: Case) -> None:
            response = call(
                intake.client.post(
                    f"/v1/commands/{command}", content=case.body, headers=case.headers()
                )
            )
            count = call(stream.count())
            status = response.status_code
            statuses[status] += 1
            if status != 201 and response.headers["content-type"].startswith(JSON):
                error = response.json().get("errors", [{}])[0]
                rules[f"{status} {error.get('rule')} {error.get('field')}"] += 1
            said = f"{case.headers()} {case.body[:500]!r} -> {status} {response.text[:500]}"
            assert status in DOCUMENTED[command] and status < 500, said
            malformed = case.payload is MALFORMED
            valid = not malformed and conforms(case.payload, root, root)
            if status == 201:
                assert case.content_type in CONTENT_TYPES and key_is_valid(case.key), said
                assert valid, f"accepted a body its schema refuses: {said}"
                reply = response.json()
                assert not reply["replayed"] and count == last[0] + 1, (count, last[0], said)
                accepted.add(reply["event_id"])
            else:
                field = refusal_field(response)
                assert count == last[0], f"a refusal appended {count - last[0]}: {said}"
                if case.content_type not in CONTENT_TYPES:
                    assert (status, field) == (415, "Content-Type"), said
                elif not key_is_valid(case.key):
                    assert (status, field) == (400, IDEMPOTENCY_KEY), said
                elif len(case.body) > MAX_BODY:
                    assert status == 413, said
                elif not valid:  # broken JSON: msgspec may meet a wrong type before the break
                    assert status in ((400, 422) if malformed else (422,)), said
                    assert field.startswith("$"), said
            last[0] = count

        fuzz()

    try:
        await in_thread(run)
        stored = await stored_messages(intake.server)
    finally:
        await stream.close()
    seeded = {m.headers["Nats-Msg-Id"] for m in stored[:before]}
    assert {m.headers["Nats-Msg-Id"] for m in stored} == seeded | accepted
    assert len(stored) == before + len(accepted)

    tried = sum(statuses.values())
    TRIED["fuzzed"] += tried
    record(request, "fuzz_cases", tried)
    record(request, "fuzz_statuses", dict(sorted(statuses.items())))
    print(
        f"\n{command}: {tried} cases in {time.monotonic() - started:.1f}s, "
        f"statuses {dict(sorted(statuses.items()))}; most frequent refusals {rules.most_common(4)}"
    )


# ---------------------------------------------------------------- hostile, one by one


def base() -> dict[str, Any]:
    return dict(Story().commands())["open-contact"]


def body(payload: Json) -> bytes:
    return json.dumps(payload).encode()


def splice(*fields: tuple[str, str], first: bool = False) -> bytes:
    """The base command plus fields given as raw JSON text (which json.dumps cannot write),
    at its end or, with ``first``, at its start: a key already there is then duplicated."""
    text = body(base()).decode()
    raw = "".join(f'"{k}": {v}, ' for k, v in fields)
    if first:
        return ("{" + raw + text[1:]).encode()
    return (text[:-1] + ", " + raw[:-2] + "}").encode()


def in_actor(raw: str) -> bytes:
    """The base command with ``actor.note`` (an unknown nested field) set to raw JSON."""
    return body(base()).replace(b'"actor": {', b'"actor": {"note": ' + raw.encode() + b", ")


DEEP = "[" * 10_000 + "]" * 10_000
CYRILLIC_ID = "0192f1d2-7c3a-7b1e-9f00-5a1b2c3d4\u04355f"  # a Cyrillic ie for the "e"
NAIVE = "2026-01-01T10:00:00"


@dataclass(frozen=True)
class Hostile:
    body: bytes
    status: int | set[int]
    field: str | None = None
    content_type: str | None = JSON
    key: str | None = "hostile-key-0001"
    length: bool = True  # False: no Content-Length header, only counting the body stops it


HOSTILE: dict[str, Callable[[], Hostile]] = {
    "control: the base command is accepted": lambda: Hostile(body(base()), 201),
    "oversized 70 KiB": lambda: Hostile(
        body(base() | {"personal": {"text": "x" * 70_000}}), 413, "$"
    ),
    "oversized 1 MiB without Content-Length": lambda: Hostile(
        body(base() | {"personal": {"text": "x" * (1 << 20)}}), 413, "$", length=False
    ),
    "just over the limit": lambda: Hostile(b" " * (MAX_BODY + 1), 413, "$"),
    "content type text/plain": lambda: Hostile(body(base()), 415, "Content-Type", "text/plain"),
    "no content type": lambda: Hostile(body(base()), 415, "Content-Type", None),
    "content type form": lambda: Hostile(
        b"subject_id=1", 415, "Content-Type", "application/x-www-form-urlencoded"
    ),
    "content type application/jsonx": lambda: Hostile(
        body(base()), 415, "Content-Type", "application/jsonx"
    ),
    "invalid UTF-8": lambda: Hostile(b'{"subject_id": "\xff\xfe"}', 400, "$"),
    "overlong UTF-8": lambda: Hostile(
        body(base()).replace(b"agent-7", b"agent\xc0\xad7"), 400, "$"
    ),
    "UTF-16 with BOM": lambda: Hostile(json.dumps(base()).encode("utf-16"), 400, "$"),
    "UTF-8 BOM": lambda: Hostile(b"\xef\xbb\xbf" + body(base()), 400, "$"),
    "lone surrogate escape": lambda: Hostile(
        body(base()).replace(b'"agent-7"', b'"\\ud800"'), {400, 422}, "$"
    ),
    "NaN": lambda: Hostile(splice(("agent", "NaN")), 400, "$"),
    "Infinity": lambda: Hostile(splice(("agent", "Infinity")), 400, "$"),
    # An unknown top-level field is refused before its value is read: 422 $.extra is fine.
    "-Infinity in an unknown field": lambda: Hostile(splice(("extra", "-Infinity")), {400, 422}),
    "1e400 as a field": lambda: Hostile(splice(("agent", "1e400")), 422, "$.agent"),
    "2**80 as a field": lambda: Hostile(splice(("agent", str(2**80))), 422, "$.agent"),
    "1e400 in an unknown field": lambda: Hostile(splice(("extra", "1e400")), 422, "$.extra"),
    "1e400 in an unknown nested field": lambda: Hostile(in_actor("1e400"), 422, "$.actor.note"),
    "10**5000 in an unknown nested field": lambda: Hostile(
        in_actor("1" + "0" * 5000), 422, "$.actor.note"
    ),
    "2**80 in an unknown nested field": lambda: Hostile(in_actor(str(2**80)), 422, "$.actor.note"),
    "10 000 nested arrays as the body": lambda: Hostile(DEEP.encode(), 422, "$"),
    "10 000 nested arrays as a field": lambda: Hostile(splice(("agent", DEEP)), 422, "$.agent"),
    "10 000 nested arrays in an unknown field": lambda: Hostile(
        splice(("extra", DEEP)), 422, "$.extra"
    ),
    "10 000 nested arrays in an unknown nested field": lambda: Hostile(
        in_actor(DEEP), 422, "$.actor.note"
    ),
    "Cyrillic look-alike in subject_id": lambda: Hostile(
        body(base() | {"subject_id": CYRILLIC_ID}), 422, "$.subject_id"
    ),
    "Cyrillic look-alike in actor.id": lambda: Hostile(
        body(base() | {"actor": {"kind": "agent", "id": "\u0430gent-7"}}), 422, "$.actor.id"
    ),
    "fullwidth digits in contact_id": lambda: Hostile(
        body(base() | {"contact_id": "\uff10192f1d2-7c3a-7b1e-9f00-5a1b2c3d4e5f"}),
        422,
        "$.contact_id",
    ),
    "zero-width space in client_id": lambda: Hostile(
        body(base() | {"client_id": "crm\u200b"}), 422, "$.client_id"
    ),
    "timestamp without zone": lambda: Hostile(
        body(base() | {"occurred_at": NAIVE}), 422, "$.occurred_at"
    ),
    "date without time": lambda: Hostile(
        body(base() | {"occurred_at": "2026-01-01"}), 422, "$.occurred_at"
    ),
    "year 1 at +23:59 (before 0001-01-01 in UTC)": lambda: Hostile(
        body(base() | {"occurred_at": "0001-01-01T00:00:00+23:59"}), {409, 422}, "$.occurred_at"
    ),
    "null byte in subject_id": lambda: Hostile(
        body(base() | {"subject_id": base()["subject_id"] + "\x00"}), 422, "$.subject_id"
    ),
    "null byte in client_id": lambda: Hostile(
        body(base() | {"client_id": "crm\x00"}), 422, "$.client_id"
    ),
    "null byte in free text (valid: personal data is any text)": lambda: Hostile(
        body(base() | {"personal": {"text": "a\x00b"}}), 201
    ),
    "trailing newline in a code": lambda: Hostile(
        body(base() | {"client_id": "crm\n"}), 422, "$.client_id"
    ),
    "duplicate key, the first invalid": lambda: Hostile(
        splice(("subject_id", '"not-an-id"'), first=True), 422, "$.subject_id"
    ),
    "duplicate key, the second invalid": lambda: Hostile(
        splice(("subject_id", '"not-an-id"')), 422, "$.subject_id"
    ),
    "duplicate key, both valid (the last one counts)": lambda: Hostile(
        splice(("subject_id", json.dumps(str(uuid.uuid4())))), {201, 422}
    ),
    "duplicate type tag, the second wrong": lambda: Hostile(
        splice(("type", '"OpenContact"'), ("type", '"CloseContact"')), 422, "$.type"
    ),
    "empty body": lambda: Hostile(b"", 400, "$"),
    "whitespace body": lambda: Hostile(b" \n\t", 400, "$"),
    "trailing garbage": lambda: Hostile(body(base()) + b" x", 400, "$"),
    "two documents": lambda: Hostile(body(base()) * 2, 400, "$"),
    "a list": lambda: Hostile(b"[]", 422, "$"),
    "a list of the command": lambda: Hostile(body([base()]), 422, "$"),
    "a number": lambda: Hostile(b"42", 422, "$"),
    "a string": lambda: Hostile(b'"open-contact"', 422, "$"),
    "null": lambda: Hostile(b"null", 422, "$"),
    "an empty object": lambda: Hostile(b"{}", 422, "$.subject_id"),
    "no Idempotency-Key": lambda: Hostile(body(base()), 400, IDEMPOTENCY_KEY, key=None),
    "Idempotency-Key too short": lambda: Hostile(body(base()), 400, IDEMPOTENCY_KEY, key="1234567"),
    "Idempotency-Key too long": lambda: Hostile(body(base()), 400, IDEMPOTENCY_KEY, key="k" * 201),
    "Idempotency-Key not ASCII": lambda: Hostile(
        body(base()), 400, IDEMPOTENCY_KEY, key="ключ-идемпотентности"
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_request_is_refused_naming_a_field_and_appends_nothing(
    intake: RunningIntake, name: str, request: pytest.FixtureRequest
) -> None:
    case = HOSTILE[name]()
    before = await stored_messages(intake.server)

    sending = intake.client.build_request(
        "POST",
        "/v1/commands/open-contact",
        content=case.body,
        headers=raw_headers(case.content_type, case.key),
    )
    if not case.length:
        del sending.headers["Content-Length"]
    response = await intake.client.send(sending)

    after = await stored_messages(intake.server)
    TRIED["hostile"] += 1
    record(request, "fuzz_cases", 1)
    expected = case.status if isinstance(case.status, set) else {case.status}
    said = f"{name}: {response.status_code} {response.text[:300]}"
    if response.status_code == 201:
        assert len(after) == len(before) + 1, said
    else:
        assert after == before, f"{name}: a refusal appended {len(after) - len(before)} messages"
    assert response.status_code in expected, said
    if response.status_code != 201:
        field = refusal_field(response)
        assert case.field is None or field == case.field, said
