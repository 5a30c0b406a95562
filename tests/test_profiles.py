import pytest

from processor.edits import STAGES, load_catalogue
from processor.profiles import ProfileError, load_ruleset
from processor.scrubber import Scrubber
from tests.factories import FIXED_NOW, claim_bytes, claim_dict, sample_scrubber


def test_every_plan_type_has_a_profile_and_all_edits_run_in_stage_order():
    ruleset = load_ruleset()
    assert ruleset.for_plan_type("other").name == "commercial"
    for profile in ruleset.profiles.values():
        order = [STAGES.index(a.spec.stage) for a in profile.edits]
        assert order == sorted(order)
    assert {a.spec.edit_id for a in ruleset.for_plan_type("medicare").edits} == set(
        load_catalogue()
    )


def test_catalogue_metadata_is_complete():
    for edit_id, item in load_catalogue().items():
        spec = item.spec
        assert spec.edit_id == edit_id and spec.message and spec.fix and spec.name
        if spec.disposition in ("reject", "deny"):
            assert spec.group_code and spec.carc, edit_id


def _write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text)
    return folder


def _scrub_with(folder, claim):
    scrubber = Scrubber(sample_scrubber().codesets, load_ruleset(folder), clock=lambda: FIXED_NOW)
    return scrubber.scrub(claim_bytes(claim))


def test_user_profile_switches_an_edit_off_and_changes_a_disposition(tmp_path):
    folder = _write(
        tmp_path / "profiles",
        "commercial",
        """
name = "commercial"
plan_types = ["commercial", "other"]
[edits.UNITS]
enabled = false
[edits.CHARGE]
disposition = "review"
""",
    )
    claim = claim_dict()
    claim["payer"]["plan_type"] = "commercial"
    claim["lines"][0]["units"] = 0
    claim["lines"][1]["charge"] = "-1"
    result = _scrub_with(folder, claim)
    assert [(f.edit_id, f.disposition) for f in result.findings] == [("CHARGE", "review")]
    assert (result.route, result.risk_level) == ("risk", "medium")
    # Medicare keeps the catalogue's defaults.
    claim["payer"]["plan_type"] = "medicare"
    assert {f.edit_id for f in _scrub_with(folder, claim).findings} == {"UNITS", "CHARGE"}


def test_profile_changes_the_ruleset_version(tmp_path):
    base = load_ruleset().version
    folder = _write(
        tmp_path / "p",
        "medicare",
        'name = "medicare"\nplan_types = ["medicare"]\n'
        "[edits.DOS-DATES.parameters]\nmax_span_days = 90\n",
    )
    assert load_ruleset(folder).version != base
    assert load_ruleset().version == base


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'name = "x"\nplan_types = ["medicare"]\n[edits.NOPE]\nenabled = false',
            "edits.NOPE: no such edit",
        ),
        (
            'name = "x"\nplan_types = ["medicare"]\n[edits.UNITS]\ndisposition = "maybe"',
            "edits.UNITS.disposition",
        ),
        (
            'name = "x"\nplan_types = ["medicare"]\n[edits.UNITS.parameters]\nlimit = 3',
            "parameters.limit: the edit has no such parameter",
        ),
        (
            'name = "x"\nplan_types = ["medicare"]\n[edits.DOS-DATES.parameters]\nmax_span_days = "a year"',
            "expected int",
        ),
        ('name = "x"\nplan_types = ["tricare"]', "plan_types must list"),
        (
            'name = "x"\nplan_types = ["medicare"]\n[edits.UNITS]\nenabled = "no"',
            "enabled must be true or false",
        ),
        ("name = [", "x.toml"),
    ],
)
def test_bad_profiles_name_the_file_and_setting(tmp_path, text, message):
    folder = _write(tmp_path / "p", "x", text)
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_ruleset(folder)


def test_two_profiles_claiming_one_plan_type(tmp_path):
    folder = _write(tmp_path / "p", "mine", 'name = "mine"\nplan_types = ["medicare"]\n')
    with pytest.raises(ProfileError, match="claimed by profiles"):
        load_ruleset(folder)


def test_missing_profiles_dir():
    with pytest.raises(ProfileError, match="not a directory"):
        load_ruleset("/nonexistent/profiles")


def test_category_ii_escalates_when_charged_under_a_profile_that_says_so(tmp_path):
    folder = _write(
        tmp_path / "p",
        "medicare",
        'name = "medicare"\nplan_types = ["medicare"]\n'
        '[edits.CAT-II.parameters]\nescalated_disposition = "deny"\n',
    )
    charged = claim_dict()
    charged["lines"][0]["procedure_code"] = "3074F"
    free = claim_dict()
    free["lines"][0].update(procedure_code="3074F", charge="0.00")
    [finding] = [f for f in _scrub_with(folder, charged).findings if f.edit_id == "CAT-II"]
    assert (finding.disposition, finding.carc, finding.group_code) == ("deny", "246", "CO")
    [finding] = [f for f in _scrub_with(folder, free).findings if f.edit_id == "CAT-II"]
    assert finding.disposition == "info"
    # The built-in medicare profile reports it as information either way.
    [finding] = [
        f for f in sample_scrubber().scrub(claim_bytes(charged)).findings if f.edit_id == "CAT-II"
    ]
    assert finding.disposition == "info"
