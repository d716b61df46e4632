"""Student-teacher figures: learning curves with theory, phase diagrams, the run figures."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError
from neurolearn.plots._common import _axes, _half_step, _same_length, _vector

__all__ = [
    "learning_curve",
    "phase_diagram",
    "teacher_run_figure",
    "teacher_online_run_figure",
]


def learning_curve(
    steps,
    values,
    *,
    theory=None,
    theory_steps=None,
    label=None,
    ylabel="loss",
    xlabel="step",
    logy=True,
    ax=None,
    **plot_kw,
):
    """A learning curve, optionally with the theory prediction as a dashed black line.

    Parameters
    ----------
    steps : array of shape (T,)
        Step (or epoch, or time) of each value.
    values : array of shape (T,) or (S, T)
        The measured curve, or one curve per seed (drawn as a mean with a min-max band).
    theory : array of shape (T',), default=None
        Theoretical curve (e.g. from the ODE of a student-teacher model).
    theory_steps : array of shape (T',), default=None
        Steps of ``theory``; ``steps`` when None.
    label : str, default=None
        Legend label of the measured curve.
    ylabel, xlabel : str, default="loss", "step"
        Axis labels.
    logy : bool, default=True
        Logarithmic y axis.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.
    **plot_kw
        Passed to ``Axes.plot`` for the measured curve.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1, 11)
    >>> ax = learning_curve(t, 1 / t, theory=1 / t, label="simulation")
    >>> [line.get_label() for line in ax.lines]
    ['simulation', 'theory']
    """
    steps = _vector("steps", "learning_curve", steps)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[-1] != steps.size:
        raise ParameterError(
            f"The 'values' parameter of learning_curve must have shape ({steps.size},) or "
            f"(n_seeds, {steps.size}). Got shape {values.shape} instead."
        )
    ax = _axes(ax)
    if values.ndim == 2:
        line = ax.plot(steps, values.mean(axis=0), label=label, **plot_kw)[0]
        ax.fill_between(
            steps, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2
        )
    else:
        ax.plot(steps, values, label=label, **plot_kw)
    if theory is not None:
        theory = _vector("theory", "learning_curve", theory)
        t_steps = steps if theory_steps is None else _vector("theory_steps", "", theory_steps)
        _same_length("learning_curve", theory=theory, theory_steps=t_steps)
        ax.plot(t_steps, theory, "k--", lw=1.2, label="theory")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if label is not None or theory is not None:
        ax.legend(fontsize=8)
    return ax


def phase_diagram(
    x, y, values, *, xlabel, ylabel, colorbar_label="", boundary=None, cmap="viridis", ax=None
):
    """A 2-d phase diagram: ``values[i, j]`` at ``(x[j], y[i])``, with an optional boundary.

    Parameters
    ----------
    x : array of shape (J,)
        Values of the horizontal parameter.
    y : array of shape (I,)
        Values of the vertical parameter.
    values : array of shape (I, J)
        The quantity over the grid (e.g. final loss, fraction of stable runs).
    xlabel, ylabel : str
        Names of the two parameters.
    colorbar_label : str, default=""
        Label of the colour bar.
    boundary : tuple of two arrays, default=None
        ``(xb, yb)``: a theoretical phase boundary drawn as a white dashed line.
    cmap : str, default="viridis"
        Colour map.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = phase_diagram([0, 1, 2], [0, 1], np.arange(6).reshape(2, 3), xlabel="a", ylabel="b")
    >>> ax.collections[0].get_array().reshape(2, 3).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    x = _vector("x", "phase_diagram", x)
    y = _vector("y", "phase_diagram", y)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (y.size, x.size):
        raise ParameterError(
            f"The 'values' parameter of phase_diagram must have shape (len(y), len(x)) = "
            f"({y.size}, {x.size}). Got shape {values.shape} instead."
        )
    ax = _axes(ax)
    mesh = ax.pcolormesh(x, y, values, shading="nearest", cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, label=colorbar_label)
    if boundary is not None:
        xb, yb = boundary
        ax.plot(np.asarray(xb), np.asarray(yb), "w--", lw=1.5, label="theory")
        ax.set_xlim(x.min() - _half_step(x), x.max() + _half_step(x))
        ax.set_ylim(y.min() - _half_step(y), y.max() + _half_step(y))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def teacher_run_figure(ds):
    """The figure of a finite-data student-teacher run: training and test error per epoch."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.semilogy(ds["epoch"], ds["train_error"], label="train")
    ax.semilogy(ds["epoch"], ds["test_error"], label="test", ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error  0.5 <(y_hat - y)^2>")
    ax.set_title(f"{ds.attrs.get('model', '')} on {ds.attrs.get('task', '')}")
    ax.legend()
    fig.tight_layout()
    return fig


def teacher_online_run_figure(ds):
    """The figure of an online run: generalisation error against alpha, with the ODE theory
    when the run has it."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    if "generalisation_error" in ds:
        ax.semilogy(ds["alpha"], ds["generalisation_error"], label="simulation")
        ax.semilogy(ds["alpha"], ds["ode_generalisation_error"], "--", label="ODE theory")
    else:
        ax.semilogy(ds["alpha"], ds["test_error"], label="simulation (test set)")
    ax.set_xlabel("alpha = steps / n_inputs")
    ax.set_ylabel("generalisation error")
    ax.set_title(f"{ds.attrs.get('model', '')} on {ds.attrs.get('task', '')}")
    ax.legend()
    fig.tight_layout()
    return fig
