"""claim -> 837P -> claim: the writer and the reader are each other's inverse on every field
the claim event carries, whatever delimiters the interchange declares."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.formats.x12.tokens import Delimiters
from processor.formats.x12.writer import write_837p
from processor.models import Claim, DeadLetter
from tests.factories import CLEAN_CLAIM, claim_dict, sample_scrubber
from tests.formats.x12_support import read

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
DELIMITERS = st.sampled_from(
    [
        Delimiters("*", "^", ":", "~"),
        Delimiters("|", "^", ">", "~"),
        Delimiters("~", "`", "^", "_"),  # x12_valid_different_separators.txt uses these
        Delimiters("*", "^", "\\", "\n"),
    ]
)


@st.composite
def claims(draw: st.DrawFn) -> dict[str, Any]:
    claim = claim_dict(claim_id=draw(TEXT))
    claim["payer"]["plan_type"] = draw(
        st.sampled_from(["medicare", "medicaid", "medicare_advantage", "commercial"])
    )
    claim["payer"]["payer_id"] = draw(TEXT)
    claim["patient"]["member_id"] = draw(TEXT)
    claim["patient"]["sex"] = draw(st.sampled_from("FMU"))
    claim["frequency_code"] = draw(st.sampled_from("178"))
    if claim["frequency_code"] != "1":
        claim["original_claim_id"] = draw(TEXT)
    claim["prior_authorization"] = draw(st.none() | TEXT)
    claim["referring_provider"] = draw(st.none() | st.just({"npi": "1234567893"}))
    claim["diagnoses"] = draw(
        st.lists(st.sampled_from(["M1711", "E119", "I10", "J029"]), min_size=1, max_size=12)
    )
    lines = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        line = dict(CLEAN_CLAIM["lines"][number % 3])
        line["line_number"] = number
        line["modifiers"] = draw(st.lists(st.sampled_from(["25", "RT", "59", "JZ"]), max_size=4))
        line["units"] = str(draw(st.decimals("0.5", "999", places=2)))
        line["charge"] = str(draw(st.decimals("0", "99999", places=2)))
        line["diagnosis_pointers"] = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4))
        if draw(st.booleans()):
            line["service_date_end"] = "2024-11-19"
        line["place_of_service"] = draw(st.none() | st.sampled_from(["11", "22"]))
        line["description"] = draw(st.none() | st.just("DRUG NOT OTHERWISE CLASSIFIED"))
        line["rendering_provider"] = draw(st.none() | st.just({"npi": "1234567893"}))
        lines.append(line)
    claim["lines"] = lines
    return claim


def _comparable(claim: Claim) -> dict[str, Any]:
    document = claim.model_dump(exclude={"schema_version"})
    document.pop("x12", None)
    document["billing_provider"].pop("name", None)  # the writer puts a placeholder
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(claims(), min_size=1, max_size=4), delimiters=DELIMITERS)
def test_claim_to_837p_to_claim_is_the_same_claim(documents, delimiters):
    originals = [Claim.model_validate(d) for d in documents]
    buffer = io.StringIO()
    write_837p(originals, buffer, delimiters=delimiters, claims_per_set=3)
    _, read_claims, ends = read(buffer.getvalue())
    assert [e.transaction.status for e in ends] == ["A"] * len(ends)
    assert [r.error for r in read_claims] == [None] * len(originals)
    for original, read_claim in zip(originals, read_claims, strict=True):
        back = Claim.model_validate(read_claim.document)
        assert _comparable(back) == _comparable(original)


def test_same_claim_from_json_or_837p_gets_the_same_findings_and_route():
    documents = [claim_dict()]
    risky = claim_dict(claim_id="RISKY")
    risky["lines"][0]["modifiers"] = []  # E/M with a procedure the same day, no 25
    risky["lines"][1]["units"] = 9
    documents.append(risky)
    scrubber = sample_scrubber()
    buffer = io.StringIO()
    write_837p([Claim.model_validate(d) for d in documents], buffer)
    _, read_claims, _ = read(buffer.getvalue())
    for document, read_claim in zip(documents, read_claims, strict=True):
        from_json = scrubber.scrub(orjson.dumps(document))
        from_x12 = scrubber.scrub(orjson.dumps(read_claim.document))
        assert not isinstance(from_json, DeadLetter) and not isinstance(from_x12, DeadLetter)
        assert from_x12.route == from_json.route
        assert [f.model_dump() for f in from_x12.findings] == [
            f.model_dump() for f in from_json.findings
        ]
        assert from_x12.at_risk_amount == from_json.at_risk_amount
    assert any(f.edit_id for f in scrubber.scrub(orjson.dumps(risky)).findings)  # type: ignore[union-attr]
    assert Decimal(read_claims[0].document["x12"]["total_charge"]) == sum(
        Decimal(str(line["charge"])) for line in documents[0]["lines"]
    )
