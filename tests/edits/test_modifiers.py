from processor.codesets import CodeSets, load_codesets
from processor.profiles import load_ruleset
from processor.scrubber import Scrubber
from tests.factories import FIXED_NOW, claim_bytes, claim_dict


def test_drug_wastage_without_any_asp_file_is_not_judged():
    # J1885 without JW/JZ, with no ASP payment-limit file loaded at all.
    codesets = load_codesets()
    without = CodeSets([r for r in codesets.all_releases() if r.info.kind != "asp_pricing"])
    scrubber = Scrubber(without, load_ruleset(), clock=lambda: FIXED_NOW)
    claim = claim_dict()
    claim["lines"][2]["modifiers"] = []
    result = scrubber.scrub(claim_bytes(claim))
    [f] = [f for f in result.findings if f.edit_id == "DRUG-WASTAGE"]
    assert f.disposition == "info" and f.line_number == 3 and "asp_pricing" in f.message
