"""Spec files: validation, did-you-mean, overrides, resolved specs."""

import pytest

from neurolearn import specs
from neurolearn.errors import SpecError


def test_every_shipped_spec_loads():
    for name in specs.available("models"):
        assert specs.load_model(name).name == name
    for name in specs.available("tasks"):
        assert specs.load_task(name).name == name


def test_unknown_key_suggests_the_close_one(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('spec_version = 1\n[network]\nkind = "esn"\nspectral_radios = 0.9\n')
    with pytest.raises(
        SpecError, match=r"network\.spectral_radios: unknown key.*Did you mean 'spectral_radius'"
    ):
        specs.load_model(path)


def test_bad_value_names_file_key_and_expectation():
    with pytest.raises(
        SpecError, match=r"models/esn\.toml: network\.leak: must be a float in \(0, 1\]\. Got 1\.5"
    ):
        specs.load_model("esn", ["network.leak=1.5"])


def test_unknown_names_and_sections():
    with pytest.raises(SpecError, match="unknown model 'esm'.*Did you mean 'esn'"):
        specs.load_model("esm")
    with pytest.raises(SpecError, match="unknown task"):
        specs.load_task("narma11x")
    with pytest.raises(SpecError, match="unknown section 'netwrk'.*Did you mean 'network'"):
        m, t = specs.load_model("esn"), specs.load_task("narma10")
        specs.check_overrides_used(["netwrk.n=3"], m, t)
    with pytest.raises(SpecError, match="unknown network kind 'esx'"):
        specs.load_model("esn", ["network.kind=esx"])


def test_overrides_are_parsed_as_toml_and_validated():
    model = specs.load_model(
        "ei-reservoir", ["network.n=40", "rule.learning_rate=[0.1, 0.01]", "rule.target_rate=0.3"]
    )
    assert model.network.n == 40
    assert model.rule.learning_rate == [0.1, 0.01]
    assert model.rule.target_rate == 0.3
    with pytest.raises(SpecError, match="target_rate"):
        specs.load_model("ei-reservoir", ["rule.target_rate=1.5"])
    with pytest.raises(SpecError, match="KEY=VALUE"):
        specs.parse_overrides(["network.n"])
    with pytest.raises(SpecError, match=r"network\.n: must be an int >= 1\. Got 0"):
        specs.load_model("esn", ["network.n=0"])


def test_spec_version_is_required(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[network]\nkind = "esn"\n')
    with pytest.raises(SpecError, match="spec_version must be 1"):
        specs.load_model(path)


def test_resolved_spec_round_trips():
    m = specs.load_model("ei-reservoir", ["network.n=77", "network.balance=-0.1"])
    t = specs.load_task("memory-capacity", ["task.max_delay=12"])
    m2, t2, seed = specs.load_resolved(specs.resolved_toml(m, t, 5))
    assert (m2, t2, seed) == (m, t, 5)
    assert m2.network.n == 77 and t2.task.max_delay == 12


def test_specs_are_frozen():
    m = specs.load_model("esn")
    with pytest.raises(AttributeError):
        m.network.n = 5


def test_switching_kind_starts_the_table_afresh():
    model = specs.load_model("ei-reservoir", ["rule.kind=none"])
    assert model.rule.kind_name == "none"
    model = specs.load_model("ei-reservoir", ["rule.kind=global-ei-balance", "rule.steps=50"])
    assert model.rule.kind_name == "global-ei-balance" and model.rule.steps == 50
