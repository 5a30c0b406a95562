from processor.edits import load_catalogue
from processor.localrun import REPO
from processor.models import DeadLetter
from processor.samples import demo_claims
from tests.factories import sample_scrubber


def test_committed_demo_file_is_the_generator_output():
    committed = (REPO / "examples" / "demo-claims.jsonl").read_bytes().splitlines()
    assert committed == demo_claims(), (
        "regenerate: python -c 'from processor.samples import "
        'write_demo_file; write_demo_file("examples/demo-claims.jsonl")\''
    )


def test_demo_claims_show_every_edit_and_the_dead_letter_kinds():
    outcomes = [sample_scrubber().scrub(raw) for raw in demo_claims()]
    fired = {f.edit_id for o in outcomes if not isinstance(o, DeadLetter) for f in o.findings}
    assert fired == set(load_catalogue())
    kinds = {o.error_kind for o in outcomes if isinstance(o, DeadLetter)}
    assert kinds == {"json", "schema", "encoding"}
    clean = sum(1 for o in outcomes if not isinstance(o, DeadLetter) and o.route == "clean")
    assert clean > 100
