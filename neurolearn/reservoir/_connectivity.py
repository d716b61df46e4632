"""E/I reservoir constants and connectivity arithmetic that the spec layer needs without numba."""

from __future__ import annotations

from neurolearn.errors import ParameterError

__all__ = [
    "ADAPTATIONS",
    "INH_WEIGHT_STD",
    "GLOBAL_SEARCHES",
    "ei_in_degrees",
    "closed_form_balance",
]

ADAPTATIONS = ("none", "local", "global", "row-rescale", "intrinsic")
INH_WEIGHT_STD = ("mu_E", "mu_I")
GLOBAL_SEARCHES = ("secant", "bisection")


def ei_in_degrees(n, excitatory_fraction, in_degree, in_degree_exc=None, in_degree_inh=None):
    """Population sizes and in-degrees of an E/I reservoir, checked against each other.

    The total in-degree ``k`` is split as the populations are: ``k_E = round(k f_E)`` inputs
    from E units and ``k_I = k - k_E`` from I units, with ``f_E = n_E / n`` the realised
    excitatory fraction. ``in_degree_exc`` / ``in_degree_inh`` override either share.

    Returns
    -------
    n_exc, n_inh, k_exc, k_inh : int

    Raises
    ------
    ParameterError
        If a population is empty, or a unit would need more distinct partners than its
        presynaptic population has (a unit cannot pick itself).

    Examples
    --------
    >>> ei_in_degrees(300, 0.8, 50)
    (240, 60, 40, 10)
    >>> ei_in_degrees(300, 0.8, 50, in_degree_exc=50, in_degree_inh=50)
    (240, 60, 50, 50)
    """
    n_exc = int(round(excitatory_fraction * n))
    n_inh = n - n_exc
    if n_exc < 1 or n_inh < 1:
        raise ParameterError(
            f"EIReservoir needs at least one E and one I unit: n={n} with "
            f"excitatory_fraction={excitatory_fraction} gives {n_exc} E, {n_inh} I."
        )
    k_exc_split = int(round(in_degree * n_exc / n))
    k_exc = k_exc_split if in_degree_exc is None else int(in_degree_exc)
    k_inh = in_degree - k_exc_split if in_degree_inh is None else int(in_degree_inh)
    for name, k, pool, given in (
        ("in_degree_exc", k_exc, n_exc, in_degree_exc),
        ("in_degree_inh", k_inh, n_inh, in_degree_inh),
    ):
        source = (
            f"The '{name}' parameter of EIReservoir"
            if given is not None
            else f"The {'E' if name.endswith('exc') else 'I'} share of 'in_degree'={in_degree} "
            f"of EIReservoir ({name} = {k})"
        )
        if k < 1:
            raise ParameterError(
                f"{source} must be at least 1 for n={n}, excitatory_fraction="
                f"{excitatory_fraction}. Got {k} instead."
            )
        if k > pool - 1:
            raise ParameterError(
                f"{source} must be at most {pool - 1} (the {pool} units of that population "
                f"minus the unit itself) for n={n}, excitatory_fraction={excitatory_fraction}. "
                f"Got {k} instead; raise n or lower the in-degree."
            )
    return n_exc, n_inh, k_exc, k_inh


def closed_form_balance(k_exc: int, k_inh: int, excitatory_fraction: float) -> float:
    r"""Expected initial balance ``beta`` of the drawn weights (before ``balance`` rescaling).

    With ``k = k_E + k_I``, ``mu_E = 1 / (k f_E)`` and ``mu_I = (f_E / f_I) mu_E``:
    :math:`\beta = k_E \mu_E - k_I \mu_I`. With the paper's split ``k_E = k f_E``,
    ``k_I = k f_I`` this is exactly 0 (balanced); with ``k_E = k_I = 50`` it is ``-1.875``.
    (Folding ``|Normal(mu, 0.2 mu)|`` shifts a mean by less than ``1e-6`` relative.)

    Examples
    --------
    >>> abs(closed_form_balance(40, 10, 0.8)) < 1e-12
    True
    >>> round(closed_form_balance(50, 50, 0.8), 12)
    -1.875
    """
    mu_e = 1.0 / ((k_exc + k_inh) * excitatory_fraction)
    mu_i = excitatory_fraction / (1.0 - excitatory_fraction) * mu_e
    return float(k_exc * mu_e - k_inh * mu_i)
