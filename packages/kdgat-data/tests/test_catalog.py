from pathlib import Path

import pytest
from kdgat_data.catalog import Catalog, CatalogError, resolve_dataset

PROJECT_CATALOG = Path(__file__).resolve().parents[3] / "configs" / "datasets.yaml"


def test_project_catalog_lists_the_designed_datasets():
    catalog = Catalog.load(PROJECT_CATALOG)
    assert {"synthetic", "hcrl_ch", "hcrl_sa", "set_01", "set_02", "set_03", "set_04", "road"} <= set(catalog.entries)
    road = catalog.get("road")
    assert road.token == "road" and road.entry.mapping.normal_values == ["Benign"]
    assert catalog.get("hcrl_ch").token == "hcrlch"
    assert catalog.get("synthetic").entry.synthetic is not None


def test_bad_catalog_names_the_field(tmp_path):
    path = tmp_path / "configs" / "datasets.yaml"
    path.parent.mkdir()
    path.write_text("datasets:\n  mine:\n    domain: automotive\n    path: x\n    colour: red\n")
    with pytest.raises(CatalogError, match=r"datasets\.mine\.colour"):
        Catalog.load(path)
    path.write_text("datasets:\n  mine:\n    domain: space\n    path: x\n")
    with pytest.raises(CatalogError, match="unknown domain 'space'"):
        Catalog.load(path)
    path.write_text("datasets:\n  mine:\n    domain: internet\n    path: x\n    readers: [{files: [a.csv], format: road}]\n")
    with pytest.raises(CatalogError, match="readers: per-file CAN reader settings apply to automotive datasets"):
        Catalog.load(path)
    path.write_text("datasets:\n  mine:\n    path: x\n    readers: [{files: [a.csv], format: roadd}]\n")
    with pytest.raises(CatalogError, match=r"datasets\.mine\.readers\.0\.format"):
        Catalog.load(path)
    path.write_text("datasets:\n  mine:\n    path: x\n    validation_fractions: {'train/*': 1.5}\n")
    with pytest.raises(CatalogError, match=r"validation_fractions.*must be in \[0, 1\)"):
        Catalog.load(path)


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(CatalogError, match="known: .*synthetic"):
        Catalog.load(PROJECT_CATALOG).get("nope")


def test_paths_resolve_without_catalog(tiny_synthetic):
    dataset = resolve_dataset(str(tiny_synthetic))
    assert dataset.root == tiny_synthetic and dataset.entry.format is None


def test_a_missing_path_says_the_path_does_not_exist(tmp_path):
    for missing in (tmp_path / "nope", tmp_path / "capture.csv"):
        with pytest.raises(FileNotFoundError, match=f"{missing}: no such file or folder"):
            resolve_dataset(str(missing), PROJECT_CATALOG)
    with pytest.raises(CatalogError, match="'nope' is not in"):  # a bare word is still a catalog key
        resolve_dataset("nope", PROJECT_CATALOG)


def test_a_catalog_entrys_folder_resolves_to_that_entry(tmp_path):
    """`kdgat-data build data/automotive/mine` must use the entry training uses (its readers, splits and
    cache key), not a second, path-named dataset read with detected formats."""
    catalog = tmp_path / "configs" / "datasets.yaml"
    catalog.parent.mkdir()
    catalog.write_text("datasets:\n  mine:\n    path: data/mine\n    format: can_train_test\n    time_order: error\n")
    folder = tmp_path / "data" / "mine"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("timestamp,arbitration_id,data_field,attack\n1.0,100,00,0\n")
    dataset = resolve_dataset(str(folder), catalog)
    assert dataset.name == "mine" and dataset.entry.time_order == "error"
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "a.csv").write_text("timestamp,arbitration_id,data_field,attack\n1.0,100,00,0\n")
    assert resolve_dataset(str(other), catalog).name == "elsewhere"  # not an entry's folder: read as a path
