from kdgat_schemas import DatasetManifest, SourceFile, SplitSummary


def _manifest(**changes):
    fields = dict(
        dataset="synthetic", domain="automotive", window=100, stride=100, validation_fraction=0.2,
        feature_version="can-v1", node_features=["a"], edge_features=["b"],
        sources=[SourceFile(path="train_01/a.csv", sha256="ab" * 32, size_bytes=10, role="train")],
        vocabulary=[0x100, 0x200],
        splits={"train": SplitSummary(frames=1000, windows=10, attack_windows=2, nodes=300, edges=600)},
        attack_types=["normal", "dos"],
    )
    fields.update(changes)
    return DatasetManifest(**fields)


def test_cache_key_changes_with_inputs_but_not_with_counts():
    base = _manifest()
    assert base.cache_key() == _manifest(splits={}).cache_key()
    assert base.cache_key() != _manifest(window=50).cache_key()
    assert base.cache_key() != _manifest(stride=1).cache_key()
    changed_file = [SourceFile(path="train_01/a.csv", sha256="cd" * 32, size_bytes=10, role="train")]
    assert base.cache_key() != _manifest(sources=changed_file).cache_key()


def test_round_trips_through_json_and_counts_unk():
    manifest = _manifest()
    again = DatasetManifest.model_validate_json(manifest.model_dump_json())
    assert again == manifest
    assert again.content_hash() == manifest.content_hash()
    assert manifest.vocabulary_size == 3
    assert manifest.splits["train"].attack_share == 0.2
