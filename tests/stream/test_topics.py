import pytest

from processor.settings import load_settings
from processor.stream.topics import TopicMapError, load_topics


def test_topic_map_follows_the_spec():
    specs = load_topics(load_settings())
    assert {r: (s.name, s.partitions, s.cleanup_policy) for r, s in specs.items()} == {
        "submitted": ("claims.submitted", 12, "delete"),
        "enriched": ("claims.enriched", 12, "delete"),
        "clean": ("claims.clean", 12, "delete"),
        "risk": ("claims.risk", 12, "delete"),
        "dlq": ("claims.dlq", 3, "delete"),
        "codeset_releases": ("codesets.releases", 1, "compact"),
    }
    day = 24 * 3600 * 1000
    assert specs["risk"].configs() == {"cleanup.policy": "delete", "retention.ms": str(30 * day)}
    assert specs["enriched"].retention_ms == day


def test_prefix_applies_to_every_topic():
    specs = load_topics(load_settings(topic_prefix="staging."))
    assert all(s.name.startswith("staging.") for s in specs.values())


def _map(tmp_path, text):
    path = tmp_path / "topics.toml"
    path.write_text(text)
    return load_settings(topics_file=path)


def test_enriched_must_match_submitted_partitions(tmp_path):
    from processor.stream.topics import _REPO

    text = _REPO.read_text().replace(
        'name = "claims.enriched"\nkey = "patient key (payer_id + member_id)"\n'
        'value = "the original claim bytes, re-keyed (repartition topic; origin in record headers)"'
        "\npartitions = 12",
        'name = "claims.enriched"\npartitions = 6',
    )
    with pytest.raises(TopicMapError, match="as many partitions as submitted"):
        load_topics(_map(tmp_path, text))


def test_missing_role_and_missing_file(tmp_path):
    with pytest.raises(TopicMapError, match=r"\[topics.submitted\] is missing"):
        load_topics(_map(tmp_path, "[topics]\n"))
    with pytest.raises(TopicMapError, match="no such file"):
        load_topics(load_settings(topics_file=tmp_path / "none.toml"))
