"""The one writer of config.toml (layers.io.config_writer) and the plugin's copy of it.

Every key of every layer survives a write and a read by the engine's own reader; paths inside the
config's folder are written relative to it (the folder can be moved); unknown layers and keys are
refused in Dutch and nothing is written then; and the plugin's copy, which cannot import the
engine, writes a config that the engine reads exactly as the engine's writer's (drift fails CI).
"""

from __future__ import annotations

from pathlib import Path
import shutil
import tomllib

import pytest

from locatietoets.analysis.errors import ConfigError
from locatietoets.layers.io.config import (
    CONSTRAINT_LAYER_KEYS,
    CONSTRAINTS,
    LAYER_GROUPS,
    LAYER_KEYS,
    load_config,
    parse_config,
)
from locatietoets.layers.io.config_writer import PATH_NOTE, render_config, write_config
from qgis_plugin import config_writer as plugin_writer

# Values the reader accepts for the keys that are not plain field names.
_SPECIAL = {"modus": "fiets", "standaard_verblijfstype": "mid_stay", "crs": "EPSG:28992"}


def _all_keys(name: str, folder: Path, *, xy: bool) -> dict[str, object]:
    """Every key of layer ``name`` (x/y or wkt, the reader refuses both at once)."""
    skip = {"wkt_veld"} if xy else {"x_veld", "y_veld"}
    table: dict[str, object] = {"pad": folder / "invoer" / f"{name}.gpkg"}
    for key in sorted(LAYER_KEYS[name] - skip - {"pad"}):
        table[key] = _SPECIAL.get(key, f"{key}_waarde")
    return table


@pytest.mark.parametrize("xy", [True, False], ids=["x_y", "wkt"])
def test_every_layer_key_round_trips_through_the_reader(tmp_path, xy):
    lagen = {name: _all_keys(name, tmp_path, xy=xy) for name in LAYER_KEYS}
    path = write_config(tmp_path / "config.toml", lagen)
    config = load_config(path)
    assert list(config.layers) == list(LAYER_KEYS)
    for name, table in lagen.items():
        spec = config.layer(name)
        assert spec.path == (tmp_path / "invoer" / f"{name}.gpkg").resolve()
        assert spec.crs == "EPSG:28992"
        assert spec.layer == table["laag"]
        expected = {k: v for k, v in table.items() if k not in {"pad", "laag", "crs"}}
        assert dict(spec.options) == expected
    # every key of the contract was written (x/y and wkt over the two runs)
    written = tomllib.loads(path.read_text(encoding="utf-8"))["lagen"]
    for name in LAYER_KEYS:
        assert set(written[name]) == set(lagen[name])


@pytest.mark.parametrize("xy", [True, False], ids=["x_y", "wkt"])
def test_declared_constraint_layers_round_trip_after_the_fixed_layers(tmp_path, xy):
    skip = {"wkt_veld"} if xy else {"x_veld", "y_veld"}
    table = {"pad": tmp_path / "natura2000.gpkg"}
    table |= {k: _SPECIAL.get(k, f"{k}_w") for k in sorted(CONSTRAINT_LAYER_KEYS - skip - {"pad"})}
    lagen = {
        f"{CONSTRAINTS}.natura2000": table,
        f"{CONSTRAINTS}.geluid_a2": {"pad": "geluid.gpkg"},
        "locaties": {"pad": "l.gpkg"},
    }
    path = write_config(tmp_path / "config.toml", lagen)
    text = path.read_text(encoding="utf-8")
    assert text.index("[lagen.locaties]") < text.index("[lagen.beperkingen.natura2000]")
    assert text.index("[lagen.beperkingen.natura2000]") < text.index(
        "[lagen.beperkingen.geluid_a2]"
    )
    config = load_config(path)
    spec = config.layer(f"{CONSTRAINTS}.natura2000")
    assert spec.path == (tmp_path / "natura2000.gpkg").resolve()
    assert spec.crs == "EPSG:28992" and spec.layer == table["laag"]
    assert dict(spec.options) == {k: v for k, v in table.items() if k not in {"pad", "laag", "crs"}}
    assert config.layer(f"{CONSTRAINTS}.geluid_a2").path == (tmp_path / "geluid.gpkg").resolve()
    with pytest.raises(ConfigError, match="Onbekende sleutel 'modus'"):
        render_config({f"{CONSTRAINTS}.natura2000": {"pad": "n.gpkg", "modus": "fiets"}})
    with pytest.raises(ConfigError, match=r"Onbekende laag \[lagen.beperkingen.Natura-2000\]"):
        render_config({f"{CONSTRAINTS}.Natura-2000": {"pad": "n.gpkg"}})


def test_paths_inside_the_folder_are_relative_so_the_folder_can_move(tmp_path):
    project = tmp_path / "project"
    elsewhere = tmp_path / "elders" / "regels.toml"
    path = write_config(
        project / "config.toml",
        {
            "locaties": {"pad": project / "invoer" / "locaties.gpkg", "id_veld": "code"},
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "werkgevers": {"pad": tmp_path / "gedeeld" / "werkgevers.gpkg", "naam_veld": None},
        },
        regels={"bestand": elsewhere},
        uitvoer={"map": project / "uitvoer"},
        kop=["FICTIEF — test", ""],
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# FICTIEF — test\n#\n# {PATH_NOTE}\n")
    data = tomllib.loads(text)
    assert data["lagen"]["locaties"] == {"pad": "invoer/locaties.gpkg", "id_veld": "code"}
    assert data["lagen"]["bebouwd_gebied"] == {"pad": "bbg.gpkg"}
    # outside the folder: absolute; None: left out
    assert data["lagen"]["werkgevers"] == {"pad": str(tmp_path / "gedeeld" / "werkgevers.gpkg")}
    assert data["regels"] == {"bestand": str(elsewhere)}
    assert data["uitvoer"] == {"map": "uitvoer"}

    moved = shutil.copytree(project, tmp_path / "verhuisd")
    config = load_config(moved / "config.toml")
    assert config.layer("locaties").path == (moved / "invoer" / "locaties.gpkg").resolve()
    assert config.output_dir == (moved / "uitvoer").resolve()


def test_rules_and_comments_are_written_and_read_back(tmp_path):
    path = write_config(
        tmp_path / "config.toml",
        {"locaties": {"pad": "l.gpkg"}},
        regels={
            "bbg_rand_m": 150,
            "aandeel": 0.25,
            "bestand": "regels.toml",
            "streng": True,
            "gemeenten": {"'s-Hertogenbosch": {"bbg_rand_m": 50}, "GM0983": {"aandeel": 0.5}},
        },
        toelichting={"locaties": ["Kandidaatlocaties."], "regels": ["Eigen regels; zie README."]},
    )
    text = path.read_text(encoding="utf-8")
    assert "# Kandidaatlocaties.\n[lagen.locaties]\n" in text
    assert "# Eigen regels; zie README.\n[regels]\nbestand = " in text
    config = load_config(path)
    assert config.rules.file == (tmp_path / "regels.toml").resolve()
    assert config.rules.overrides == {"bbg_rand_m": 150, "aandeel": 0.25, "streng": True}
    assert config.rules.gemeenten == {
        "'s-Hertogenbosch": {"bbg_rand_m": 50},
        "GM0983": {"aandeel": 0.5},
    }


def test_unknown_layers_and_keys_are_refused_in_dutch_and_nothing_is_written(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# oud\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        write_config(
            path,
            {
                "locaties": {"pad": "l.gpkg", "id_veldd": "id", "personen_veld": 4},
                "wegen": {"pad": "w.gpkg"},
                "gemeenten": {"naam_veld": "naam"},
            },
            uitvoer={"mapp": "uit"},
            toelichting={"regelz": ["x"]},
        )
    problems = info.value.problems
    assert any("'id_veldd'" in p and "id_veld" in p and "Bedoelde u" in p for p in problems)
    assert any("[lagen.wegen]" in p and "wegennet" in p for p in problems)
    assert any("[lagen.locaties] personen_veld moet tekst zijn" in p for p in problems)
    assert any("[lagen.gemeenten] mist 'pad'" in p for p in problems)
    assert any("'mapp' in [uitvoer]" in p for p in problems)
    assert any("'regelz'" in p for p in problems)
    assert len(problems) == 6
    assert path.read_text(encoding="utf-8") == "# oud\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_values_that_toml_cannot_hold_are_refused():
    with pytest.raises(ConfigError) as info:
        render_config(
            {"locaties": {"pad": "l.gpkg"}},
            regels={"a": float("nan"), "b": {"c": 1}, "gemeenten": {"Venlo": 3}},
        )
    text = str(info.value)
    assert "[regels] a = nan" in text and "eindige getallen" in text
    assert "[regels] b = {'c': 1}" in text
    assert "[regels.gemeenten.Venlo] moet een tabel zijn" in text


def test_strings_are_escaped(tmp_path):
    odd = 'C:\\data\\"loc"\tx\x7f.gpkg'
    text = render_config({"locaties": {"pad": odd, "laag": "é\n"}})
    assert tomllib.loads(text)["lagen"]["locaties"] == {"pad": odd, "laag": "é\n"}


# --- the plugin's copy --------------------------------------------------------------------------


def test_plugin_copy_knows_the_same_layers_and_keys():
    from locatietoets.analysis.constraints import LAYER_NAME_PATTERN

    assert list(plugin_writer.LAYER_KEYS) == list(LAYER_KEYS)
    assert {k: set(v) for k, v in plugin_writer.LAYER_KEYS.items()} == {
        k: set(v) for k, v in LAYER_KEYS.items()
    }
    assert plugin_writer.LAYER_ORDER == tuple(LAYER_KEYS)
    assert set(plugin_writer.CONSTRAINT_LAYER_KEYS) == set(CONSTRAINT_LAYER_KEYS)
    assert plugin_writer.CONSTRAINTS == CONSTRAINTS
    assert plugin_writer.CONSTRAINT_NAME_PATTERN.pattern == LAYER_NAME_PATTERN.pattern
    assert {k: set(v) for k, v in plugin_writer.LAYER_GROUPS.items()} == {
        k: set(v) for k, v in LAYER_GROUPS.items()
    }


@pytest.mark.parametrize("xy", [True, False], ids=["x_y", "wkt"])
def test_plugin_and_engine_writers_give_the_same_config(tmp_path, xy):
    lagen = {name: _all_keys(name, tmp_path, xy=xy) for name in LAYER_KEYS}
    lagen[f"{CONSTRAINTS}.natura2000"] = {
        "pad": tmp_path / "n2000.gpkg",
        "naam_veld": "naam",
        "waarde_veld": None,
    }
    lagen["voorzieningen.supermarkt"] = {
        "pad": tmp_path / "osm shops.gpkg",
        "laag": "winkels",
        "naam_veld": "name",
        "selectie_veld": "shop",
        "selectie_waarden": "supermarket,convenience",
    }
    lagen["voorzieningen.ov_halte"] = {"pad": tmp_path / "haltes.gpkg", "naam_veld": None}
    lagen["locaties"]["personen_veld"] = None  # an unset field picker
    lagen["gemeenten"]["regio_veld"] = ""
    ruleset = str(tmp_path / "regels met spatie" / "eigen.toml")
    overrides = {"bbg_rand_m": 150, "aandeel": 0.5, "streng": False}
    gemeenten = {"Sittard-Geleen": {"bbg_rand_m": 50}, "'s-Hertogenbosch": {"aandeel": 0.1}}

    plugin_text = plugin_writer.render_config(
        {
            k: {kk: str(v) if isinstance(v, Path) else v for kk, v in t.items()}
            for k, t in lagen.items()
        },
        ruleset=ruleset,
        overrides=overrides,
        gemeenten=gemeenten,
    )
    engine_text = render_config(
        lagen, regels={"bestand": ruleset, **overrides, "gemeenten": gemeenten}
    )
    plugin = parse_config(tomllib.loads(plugin_text), base_dir=tmp_path)
    engine = parse_config(tomllib.loads(engine_text), base_dir=tmp_path)
    assert plugin.layers == engine.layers
    assert plugin.rules == engine.rules
    assert engine.layer(f"{CONSTRAINTS}.natura2000").options == {"naam_veld": "naam"}
    assert "personen_veld" not in engine.layer("locaties").options
    assert "regio_veld" not in plugin.layer("gemeenten").options
    assert plugin.layer("voorzieningen.supermarkt").options == {
        "naam_veld": "name",
        "selectie_veld": "shop",
        "selectie_waarden": "supermarket,convenience",
    }
    assert plugin.layer("voorzieningen.ov_halte").options == {}
    assert plugin_text.index("[lagen.beperkingen.natura2000]") < plugin_text.index(
        "[lagen.voorzieningen.supermarkt]"
    )


def test_plugin_copy_refuses_unknown_layers_and_keys():
    with pytest.raises(ValueError, match="Onbekende sleutel 'id_veldd' in \\[lagen.locaties\\]"):
        plugin_writer.render_config({"locaties": {"pad": "/l.gpkg", "id_veldd": "id"}})
    with pytest.raises(ValueError, match="Onbekende laag \\[lagen.wegen\\]"):
        plugin_writer.render_config({"wegen": {"pad": "/w.gpkg"}})
    with pytest.raises(
        ValueError, match="Onbekende sleutel 'modus' in \\[lagen.beperkingen.n2k\\]"
    ):
        plugin_writer.render_config({"beperkingen.n2k": {"pad": "/n.gpkg", "modus": "fiets"}})
    with pytest.raises(
        ValueError, match="Onbekende sleutel 'waarde_veld' in \\[lagen.voorzieningen.huisarts\\]"
    ):
        plugin_writer.render_config(
            {"voorzieningen.huisarts": {"pad": "/h.gpkg", "waarde_veld": "x"}}
        )
    with pytest.raises(ValueError, match="Onbekende laag \\[lagen.voorzieningen.Huis-arts\\]"):
        plugin_writer.render_config({"voorzieningen.Huis-arts": {"pad": "/h.gpkg"}})
