"""Schemathesis hooks for scripts/ci-checks/schemathesis.sh.

The document states every constraint the server enforces. Two of them JSON
Schema can only name, not compute, so the fuzzer is taught them here:

* `format: gb11643`: a resident ID number under a province code, whose birth
  date exists and is past, and whose
  last character is the ISO 7064 MOD 11-2 check of the first 17 digits.
* `format: past-date`: a record's own date, an existing date from 1900-01-01
  up to today;
* a date field that must not precede another (`not_before` in the catalogue:
  `removed_on` after `listed_on`, `valid_until` after `valid_from`): bodies
  where it does are left out, or put in order before they are sent;
* the batch media types `application/x-ndjson` and `application/jsonl` are
  text: a generated string goes on the wire as it is.
"""

import datetime
import json
import tomllib
import pathlib
import re
import uuid

import hypothesis.strategies as st
import schemathesis

PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44,
             45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_character(first17: str) -> str:
    n = (12 - sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11) % 11
    return "X" if n == 10 else str(n)


@st.composite
def id_numbers(draw):
    # GB/T 2260 province prefixes, as chengxin_domain::id::PROVINCES; the
    # birth date is not in the future.
    province = draw(st.sampled_from(PROVINCES))
    region = province * 10_000 + draw(st.integers(0, 9_999))
    born = draw(st.dates(datetime.date(1900, 1, 1), datetime.date.today() - datetime.timedelta(days=1)))
    seq = draw(st.integers(0, 999))
    first17 = f"{region:06d}{born:%Y%m%d}{seq:03d}"
    check = check_character(first17)
    if check == "X":
        check = draw(st.sampled_from("Xx"))
    return first17 + check


schemathesis.openapi.format("gb11643", id_numbers())
schemathesis.openapi.format(
    "past-date",
    st.dates(datetime.date(1900, 1, 1), datetime.date.today() - datetime.timedelta(days=1)).map(
        lambda d: d.isoformat()
    ),
)

# Each item's own date field (its first date field), from the catalogue.
with open(pathlib.Path(__file__).resolve().parents[2] / "crates/domain/data/catalogue/2026.1.toml", "rb") as f:
    CATALOGUE = tomllib.load(f)
RECORD_DATE = {
    item["code"]: next((f["name"] for f in item["fields"] if f["type"] == "date"), None)
    for item in CATALOGUE["items"]
}
VALID_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# (earlier, later) date fields of one record, from the catalogue's `not_before`.
ORDERED = (("listed_on", "removed_on"), ("valid_from", "valid_until"))


def dates_in_order(fields) -> bool:
    if not isinstance(fields, dict):
        return True
    for first, then in ORDERED:
        a, b = fields.get(first), fields.get(then)
        if isinstance(a, str) and isinstance(b, str) and b < a:
            return False
    return True


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, dict):
        return dates_in_order(body.get("fields"))
    return True


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def json_lines(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# A key reused with another body is refused (422 `idempotency_key_reused`, as
# the IETF Idempotency-Key draft says). That depends on earlier requests, not
# on the schema, so every valid key the fuzzer sends is made unique; invalid
# keys are left alone so that their rejection is still checked.
VALID_KEY = re.compile(r"[ \t]*[!-~](?:[ -~]{0,253}[!-~])?[ \t]*")


def leaves_out_a_parameter(case) -> bool:
    """Whether this is a coverage case that tests a missing parameter (such as
    `Authorization`): changing it would make schemathesis revalidate it and
    put the CLI's Authorization header back."""
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    return "MISSING" in str(getattr(data, "scenario", "")).upper()


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers
    key = headers.get("Idempotency-Key") if headers else None
    if isinstance(key, str) and VALID_KEY.fullmatch(key) and not leaves_out_a_parameter(case):
        stripped = key.strip(" \t")
        headers["Idempotency-Key"] = f"{stripped[:200]}-{uuid.uuid4().hex}"
    # Cases that bypass `filter_body` (the coverage phase) get their ordered
    # dates put in order: swapping two valid dates keeps every schema rule.
    body = case.body
    fields = body.get("fields") if isinstance(body, dict) else None
    if isinstance(fields, dict):
        # The coverage phase also sends boundary dates (2199-12-31) as a
        # record's own date, which must not be after today (`past-date`).
        item = body.get("item")
        own = RECORD_DATE.get(item) if isinstance(item, str) else None
        value = fields.get(own) if own else None
        yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
        if isinstance(value, str) and VALID_DATE.fullmatch(value) and value > yesterday:
            fields[own] = yesterday
        for first, then in ORDERED:
            a, b = fields.get(first), fields.get(then)
            if isinstance(a, str) and isinstance(b, str) and b < a:
                fields[first], fields[then] = b, a
