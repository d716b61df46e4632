"""neurolearn.plots: figures render, axes are labelled, and what is drawn equals the input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from neurolearn import plots  # noqa: E402
from neurolearn.errors import ParameterError  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _renders(ax):
    ax.figure.canvas.draw()
    assert ax.get_xlabel() and ax.get_ylabel()


def test_rate_trajectories_draws_chosen_units_and_targets(rng):
    steps = np.arange(0, 50, 10)
    rates = rng.uniform(0, 1, (5, 7))
    targets = rng.uniform(0, 1, 7)
    ax = plots.rate_trajectories(steps, rates, targets, units=[1, 4])
    _renders(ax)
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    np.testing.assert_array_equal(curves[0].get_xdata(), steps)
    np.testing.assert_array_equal(curves[0].get_ydata(), rates[:, 1])
    np.testing.assert_array_equal(curves[1].get_ydata(), rates[:, 4])
    assert [line.get_ydata()[0] for line in dashed] == [targets[1], targets[4]]
    # the target of a unit shares its colour
    assert curves[1].get_color() == dashed[1].get_color()


def test_rate_trajectories_spreads_units_evenly(rng):
    ax = plots.rate_trajectories(np.arange(3), rng.uniform(0, 1, (3, 11)), units=3)
    assert [line.get_label() for line in ax.lines] == ["unit 0", "unit 5", "unit 10"]


def test_rates_vs_targets_points_and_identity(rng):
    targets, rates = rng.uniform(0, 1, 20), rng.uniform(0, 1, 20)
    ax = plots.rates_vs_targets(targets, rates, label="local", color="C3")
    _renders(ax)
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.c_[targets, rates])
    identity = ax.lines[0]
    np.testing.assert_array_equal(identity.get_xdata(), identity.get_ydata())
    assert ax.get_legend_handles_labels()[1] == ["local"]


def test_memory_capacity_curve_values_and_total():
    delays, mc = np.arange(1, 6), np.array([1.0, 0.9, 0.5, 0.1, 0.0])
    ax = plots.memory_capacity_curve(delays, mc)
    _renders(ax)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), delays)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), mc)
    assert ax.get_legend_handles_labels()[1] == ["MC = 2.50"]


def test_learning_curve_seed_band_and_theory(rng):
    steps = np.arange(1, 21)
    curves = rng.uniform(0.5, 1.5, (4, 20)) / steps
    theory_steps = np.linspace(1, 20, 100)
    ax = plots.learning_curve(
        steps, curves, theory=1 / theory_steps, theory_steps=theory_steps, label="sim"
    )
    _renders(ax)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curves.mean(axis=0))
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), theory_steps)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), 1 / theory_steps)
    assert ax.get_yscale() == "log"
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(curves.min(axis=0).min())
    assert band[:, 1].max() == pytest.approx(curves.max(axis=0).max())


def test_learning_curve_linear_axis_and_labels():
    ax = plots.learning_curve([0, 1, 2], [3.0, 2.0, 1.0], logy=False, ylabel="error", xlabel="t")
    assert (ax.get_yscale(), ax.get_ylabel(), ax.get_xlabel()) == ("linear", "error", "t")
    assert ax.get_legend() is None


def test_phase_diagram_grid_and_boundary():
    x, y = np.linspace(0, 1, 4), np.linspace(-1, 1, 3)
    values = np.arange(12.0).reshape(3, 4)
    ax = plots.phase_diagram(
        x, y, values, xlabel="fraction flipped", ylabel="width", boundary=(x, 0.5 * x)
    )
    _renders(ax)
    np.testing.assert_array_equal(ax.collections[0].get_array().reshape(3, 4), values)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), 0.5 * x)
    assert ax.get_xlabel() == "fraction flipped"


def test_raster_splits_exc_and_inh():
    times = np.array([1.0, 2.0, 3.0, 4.0])
    units = np.array([0, 5, 2, 9])
    ax = plots.raster(times, units, n_exc=4, t_max=10)
    _renders(ax)
    exc, inh = ax.collections
    np.testing.assert_array_equal(exc.get_offsets(), [[1.0, 0], [3.0, 2]])
    np.testing.assert_array_equal(inh.get_offsets(), [[2.0, 5], [4.0, 9]])
    assert ax.get_xlim() == (0, 10)


def test_population_rate_curve_and_target():
    t, r = np.arange(0.0, 500.0, 100.0), np.array([50.0, 20.0, 8.0, 5.5, 5.1])
    ax = plots.population_rate(t, r, target=5.0, label="E")
    _renders(ax)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), t)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), r)
    assert list(ax.lines[1].get_ydata()) == [5.0, 5.0]
    assert ax.get_legend_handles_labels()[1] == ["E", "target"]


def test_pc_trajectories_recovers_a_planar_orbit(rng):
    t = np.linspace(0, 2 * np.pi, 80)
    plane = np.stack([3 * np.cos(t), np.sin(t)], axis=1)
    basis = np.linalg.qr(rng.normal(size=(10, 2)))[0]  # orthonormal embedding in 10-d
    states = np.stack([plane @ basis.T, 0.5 * plane @ basis.T])
    ax, pcs = plots.pc_trajectories(states, labels=["a", "b"])
    _renders(ax)
    proj = pcs["projection"]
    assert proj.shape == (2, 80, 2)
    # a rotation-free embedding: distances between time points are preserved in the PC plane
    centred = states.reshape(-1, 10) - states.reshape(-1, 10).mean(axis=0)
    d_true = np.linalg.norm(centred[:, None] - centred[None], axis=-1)
    d_proj = np.linalg.norm(proj.reshape(-1, 2)[:, None] - proj.reshape(-1, 2)[None], axis=-1)
    np.testing.assert_allclose(d_proj, d_true, atol=1e-9)
    assert pcs["explained_variance_ratio"].sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), proj[0, :, 0])


def test_scan_heatmap_means_over_seeds_ignoring_failed_points():
    data = xr.DataArray(
        np.arange(12.0).reshape(3, 2, 2),
        dims=("rule.lr", "network.n", "seed"),
        coords={"rule.lr": [0.01, 0.1, 1.0], "network.n": [10, 20]},
        name="loss",
    )
    data[0, 0, 1] = np.nan
    ax, values = plots.scan_heatmap(data)
    _renders(ax)
    expected = np.array([[0.0, 2.5], [4.5, 6.5], [8.5, 10.5]])
    np.testing.assert_array_equal(ax.collections[0].get_array().reshape(3, 2), expected)
    np.testing.assert_array_equal(values.values, expected)
    assert values.dims == ("rule.lr", "network.n") and values.name == "loss"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.01", "0.1", "1"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("network.n", "rule.lr")
    assert plots.scan_heatmap(data, x="rule.lr")[0].get_ylabel() == "network.n"
    assert plots.scan_heatmap(data, y="network.n")[0].get_xlabel() == "rule.lr"
    transposed, _ = plots.scan_heatmap(data, x="rule.lr", y="network.n", reduce="max")
    np.testing.assert_array_equal(
        transposed.collections[0].get_array().reshape(2, 3), [[0, 5, 9], [3, 7, 11]]
    )


def test_helpers_draw_on_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plots.memory_capacity_curve([1, 2], [1, 0.5], ax=axes[1]) is axes[1]
    assert not axes[0].lines


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plots.rates_vs_targets([0.1, 0.2], [0.1]), "same length"),
        (lambda: plots.memory_capacity_curve([[1, 2]], [1, 2]), "'delays' parameter"),
        (lambda: plots.learning_curve([1, 2, 3], np.ones((2, 4))), r"shape \(3,\)"),
        (lambda: plots.phase_diagram([1, 2], [1], np.ones((2, 2)), xlabel="", ylabel=""), "len"),
        (lambda: plots.rate_trajectories([0, 1], np.ones((3, 2))), "'rates' parameter"),
        (lambda: plots.pc_trajectories(np.ones((3, 1))), "N >= 2"),
        (lambda: plots.population_rate([0, 1], [1.0]), "same length"),
        (lambda: plots.pc_trajectories(np.ones((3, 2)), n_components=3), "n_components"),
        (lambda: plots.scan_heatmap(np.ones((2, 2))), "xarray.DataArray"),
        (
            lambda: plots.scan_heatmap(xr.DataArray(np.ones((2, 2)), dims=("a", "b")), x="c"),
            "grid dimensions",
        ),
        (
            lambda: plots.scan_heatmap(xr.DataArray(np.ones(2), dims=("a",))),
            "exactly two grid",
        ),
        (
            lambda: plots.scan_heatmap(
                xr.DataArray(np.ones((2, 2)), dims=("a", "b")), reduce="sum"
            ),
            "'reduce' parameter",
        ),
    ],
)
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_no_plot_stores_results_on_an_axes(rng):
    """What a helper computes is returned beside the axes, never set as an attribute on it."""
    import matplotlib.axes

    baseline = set(vars(plt.subplots()[1]))
    _, ax = plt.subplots()
    out = plots.pc_trajectories(rng.normal(size=(20, 4)), ax=ax)
    assert out[0] is ax and set(vars(ax)) <= baseline
    data = xr.DataArray(rng.normal(size=(2, 3)), dims=("a", "b"), name="m")
    _, ax = plt.subplots()
    assert plots.scan_heatmap(data, ax=ax)[0] is ax
    assert set(vars(ax)) <= baseline
    assert isinstance(ax, matplotlib.axes.Axes)


@pytest.mark.parametrize("name", plots.__all__)
def test_every_name_is_reachable_from_its_family_module(name):
    import importlib

    obj = getattr(plots, name)
    module = importlib.import_module(obj.__module__)
    assert getattr(module, name) is obj and obj.__module__.startswith("neurolearn.plots.")


def test_ensemble_rates_bins_every_network_and_joins_phases():
    from neurolearn.spiking import SpikeRecord

    def record(start, steps, ids):
        # 2 E neurons, 1 I; dt 1 ms; spikes at the given steps of neuron 0
        return SpikeRecord(
            np.asarray(steps, np.int64) + start,
            np.asarray(ids, np.int64),
            start,
            100,
            1.0,
            2,
            1,
            np.zeros(0, np.int64),
            np.zeros((100, 0)),
        )

    first = [record(0, [1, 2, 60], [0, 0, 1]), record(0, [], [])]
    second = [record(100, [10], [0]), record(100, [20, 70], [1, 2])]
    ax, data = plots.ensemble_rates([first, second], bin_ms=50.0, target=5.0)
    # rate = spikes / (2 E neurons x 0.05 s); the I spike (id 2) is not counted
    expected = np.array([[20.0, 10.0, 10.0, 0.0], [0.0, 0.0, 10.0, 0.0]])
    np.testing.assert_allclose(data["rates_hz"], expected)
    np.testing.assert_allclose(data["t_ms"], [0, 50, 100, 150])
    assert ax.lines[-1].get_ydata()[0] == 5.0
    with pytest.raises(ParameterError, match="one record per network"):
        plots.ensemble_rates([first, second[:1]])
    plt.close("all")
