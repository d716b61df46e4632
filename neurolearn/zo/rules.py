"""Learning rules: backprop and the zeroth-order (perturbation) rules, as swappable objects.

Every rule has a learning rate, and every perturbation rule a noise scale ``sigma`` and a number
of probes; :meth:`estimate` returns one gradient estimate and the number of forward passes
(queries) it cost, from the same kernels that the training loops run.
"""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import Interval, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterTypeError
from neurolearn.zo import _declared as D

__all__ = [
    "Rule",
    "Backprop",
    "WeightPerturbation",
    "NodePerturbation",
    "SPSA",
    "ForwardGradient",
    "EvolutionStrategies",
    "OUWeightNoise",
    "RULES",
]


def noise_seed(seed) -> int:
    """A 63-bit key for the kernels' counter-based noise, drawn from ``seed``."""
    return int(as_generator(seed, "rule").integers(0, 2**63 - 1))


class Rule(Estimator):
    """Base class of the rules: each declares its parameters once in ``params`` (an
    ``neurolearn._declare.Estimator``: ``get_params``, ``set_params``, ``clone``; every
    parameter takes effect at the next use) and builds its kernel parameter group
    (``_kernel_params``), whose type selects the rule's kernel step.

    Examples
    --------
    >>> isinstance(SPSA(), Rule), SPSA().get_params()["direction"]
    (True, 'rademacher')
    """

    name = ""

    def checked(self) -> dict:
        """Validated parameters (raises with the house message on a bad value)."""
        return self._check_params()

    def kernel_params(self):
        """The rule's validated parameter group for the numba kernels (a named tuple of
        ``neurolearn._kernels.numba.zo`` whose type selects the rule's step)."""
        from neurolearn._kernels.numba import zo as K

        return self._kernel_params(K, self.checked())

    def _kernel_params(self, K, p):
        raise NotImplementedError

    def queries_per_step(self) -> int:
        """Forward passes one training step costs."""
        raise NotImplementedError

    def estimate(self, net, theta, X, Y, *, seed=0, step=0) -> tuple[np.ndarray, int]:
        """One gradient estimate of the mean loss over ``(X, Y)`` and the queries it cost.

        ``seed`` (int, Generator or None) and ``step`` select the perturbation, exactly as the
        training loop would at that step.
        """
        from neurolearn._kernels.numba import zo as K
        from neurolearn.zo.network import MLP

        params = self.kernel_params()
        if not isinstance(net, MLP):
            raise ParameterTypeError(
                f"The 'net' parameter of {type(self).__name__}.estimate must be an MLP. "
                f"Got {type(net).__name__} instead."
            )
        step = check_param(f"{type(self).__name__}.estimate", "step", step, Interval(int, 0, None))
        theta = net.check_theta(theta).copy()
        X, Y = net.check_data(X, Y)
        lay = net.layout_
        act, loss = net.codes
        key = np.uint64(noise_seed(seed))
        if isinstance(params, K.BackpropParams):
            net_loss, grad = net.gradient(theta, X, Y)
            return grad, 1
        estimate = K.RULE_ESTIMATES.get(type(params))
        if estimate is None:
            raise TypeError(f"{type(self).__name__} has no gradient estimate.")
        idx = np.arange(X.shape[0], dtype=np.int64)
        scratch = K.scratch_for(params, lay.sizes, X.shape[0], lay.n_params)
        queries, _ = estimate(
            params,
            theta,
            K.MLPLayout(lay.sizes, lay.w_off, lay.b_off, act, loss),
            K.Data(X, Y),
            idx,
            key,
            step,
            scratch,
        )
        return scratch.grad.copy(), int(queries)


class Backprop(Rule):
    """Stochastic gradient descent with the exact (backpropagated) gradient.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> Backprop(learning_rate=0.5).queries_per_step()
    1
    """

    name = "backprop"
    params = D.BACKPROP

    def _kernel_params(self, K, p):
        return K.BackpropParams(learning_rate=float(p["learning_rate"]))

    def queries_per_step(self) -> int:
        self.checked()
        return 1


class WeightPerturbation(Rule):
    r"""Weight perturbation: perturb every weight, correlate the loss change with the noise.

    .. math:: \Delta\theta = -\frac{\eta}{q}\sum_k
              \frac{L(\theta + \sigma\xi_k) - L(\theta)}{\sigma}\,\xi_k,\quad \xi_k\sim N(0, I)

    With ``antithetic=True`` the difference is ``L(theta + sigma xi) - L(theta - sigma xi)``
    over ``2 sigma``.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> WeightPerturbation(n_probes=4).queries_per_step()
    5
    """

    name = "weight-perturbation"
    params = D.WEIGHT_PERTURBATION

    def _kernel_params(self, K, p):
        return K.WeightPerturbationParams(
            learning_rate=float(p["learning_rate"]),
            sigma=float(p["sigma"]),
            n_probes=int(p["n_probes"]),
            antithetic=bool(p["antithetic"]),
        )

    def queries_per_step(self) -> int:
        p = self.checked()
        return 2 * p["n_probes"] if p["antithetic"] else p["n_probes"] + 1


class NodePerturbation(Rule):
    r"""Node perturbation, a three-factor rule: global loss change x injected node noise x
    presynaptic activity.

    .. math:: \Delta W_l = -\frac{\eta}{q B}\sum_{k, n}
              \frac{L_n(\text{noisy}_k) - L_n(\text{clean})}{\sigma}\,\xi_{l,n,k}\,h_{l-1,n}^T

    Every pre-activation of every sample gets independent noise ``sigma xi``; ``h`` is the
    presynaptic activity of the clean pass.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> NodePerturbation().queries_per_step()
    2
    """

    name = "node-perturbation"
    params = D.NODE_PERTURBATION

    def _kernel_params(self, K, p):
        return K.NodePerturbationParams(
            learning_rate=float(p["learning_rate"]),
            sigma=float(p["sigma"]),
            n_probes=int(p["n_probes"]),
        )

    def queries_per_step(self) -> int:
        return self.checked()["n_probes"] + 1


class SPSA(Rule):
    r"""Simultaneous-perturbation stochastic approximation in MeZO form.

    .. math:: \Delta\theta = -\frac{\eta}{q}\sum_k
              \frac{L(\theta + \sigma z_k) - L(\theta - \sigma z_k)}{2\sigma}\,z_k

    The parameters are perturbed in place and ``z_k`` is regenerated from its seed for the
    update, so no perturbation is stored: memory equals inference memory.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> SPSA(n_probes=2).queries_per_step()
    4
    """

    name = "spsa"
    params = D.SPSA

    def _kernel_params(self, K, p):
        return K.SPSAParams(
            learning_rate=float(p["learning_rate"]),
            sigma=float(p["sigma"]),
            n_probes=int(p["n_probes"]),
            rademacher=p["direction"] == "rademacher",
        )

    def queries_per_step(self) -> int:
        return 2 * self.checked()["n_probes"]


class ForwardGradient(Rule):
    r"""Forward gradient: the directional derivative along random directions, by forward-mode
    differentiation (no backward pass).

    .. math:: g = \frac{1}{q}\sum_k (\nabla L\cdot u_k)\,u_k,\quad u_k\sim N(0, I),\quad
              E[g] = \nabla L,\quad E|g|^2 = \frac{d + 1 + q}{q}\,|\nabla L|^2

    One JVP pass per direction counts as one query.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> ForwardGradient(n_probes=3).queries_per_step()
    3
    """

    name = "forward-gradient"
    params = D.FORWARD_GRADIENT

    def _kernel_params(self, K, p):
        return K.ForwardGradientParams(
            learning_rate=float(p["learning_rate"]), n_probes=int(p["n_probes"])
        )

    def queries_per_step(self) -> int:
        return self.checked()["n_probes"]


class EvolutionStrategies(Rule):
    r"""Antithetic Gaussian evolution strategies with a population evaluated together.

    .. math:: g = \frac{1}{2\sigma P}\sum_{p=1}^P (F(\theta + \sigma\epsilon_p) -
              F(\theta - \sigma\epsilon_p))\,\epsilon_p

    with ``F`` the loss itself, or its centred rank in ``[-0.5, 0.5]`` over the ``2P``
    evaluations when ``fitness_shaping="centered-ranks"`` (then ``g`` is no longer an unbiased
    gradient estimate but is invariant to monotone transformations of the loss).

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> EvolutionStrategies(population=5).queries_per_step()
    10
    """

    name = "evolution-strategies"
    params = D.EVOLUTION_STRATEGIES

    def _kernel_params(self, K, p):
        return K.EvolutionStrategiesParams(
            learning_rate=float(p["learning_rate"]),
            sigma=float(p["sigma"]),
            population=int(p["population"]),
            centered_ranks=p["fitness_shaping"] == "centered-ranks",
        )

    def queries_per_step(self) -> int:
        return 2 * self.checked()["population"]


class OUWeightNoise(Rule):
    r"""Reward-modulated Ornstein-Uhlenbeck weight noise (OU adaptation).

    The weights ``theta`` fluctuate around a mean ``mu``; a reward-prediction error moves the
    mean towards the fluctuations that did better than expected (Euler steps, ``dt`` folded
    into the rates):

    .. math:: r_t = -L(\theta_t),\quad \delta_t = r_t - \bar r_t,\quad
              \mu \leftarrow \mu + \eta\,\delta_t(\theta_t - \mu),\quad
              \theta \leftarrow \theta + \lambda(\mu - \theta) + \sigma\xi_t,\quad
              \bar r \leftarrow \bar r + \rho (r_t - \bar r)

    One query per step; the learned parameters are the mean ``mu``.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> OUWeightNoise().queries_per_step()
    1
    """

    name = "ou-weight-noise"
    params = D.OU_WEIGHT_NOISE

    def _kernel_params(self, K, p):
        return K.OUWeightNoiseParams(
            learning_rate=float(p["learning_rate"]),
            sigma=float(p["sigma"]),
            mean_reversion=float(p["mean_reversion"]),
            reward_rate=float(p["reward_rate"]),
        )

    def queries_per_step(self) -> int:
        self.checked()
        return 1


RULES = {
    cls.name: cls
    for cls in (
        Backprop,
        WeightPerturbation,
        NodePerturbation,
        SPSA,
        ForwardGradient,
        EvolutionStrategies,
        OUWeightNoise,
    )
}
