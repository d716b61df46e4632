"""FORCE / CURBD student: recursive least squares on the readout and the recorded units' rows."""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._history import History
from neurolearn._params import check_array
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, NotFittedError, ParameterError, ParameterTypeError
from neurolearn.rnnfit import _declared as D

__all__ = ["ForceStudent"]

_OWNER = "ForceStudent"


class ForceStudent(Estimator):
    """Rate RNN trained by FORCE (recursive least squares), the classical alternative to BPTT.

    The network ``tau dx/dt = -x + J tanh(x) + W_fb z + B u`` starts chaotic
    (``J ~ init_gain N(0, 1/N)``) with fixed random feedback ``W_fb`` of the output
    ``z = W_out tanh(x)``. During training the readout ``W_out`` (Sussillo & Abbott 2009) and,
    when ``fit_recorded``, the recurrent rows of the units standing for recorded neurons (CURBD,
    Perich et al. 2020) are updated online by recursive least squares with one shared
    inverse-correlation matrix. A recorded unit ``i`` is driven towards the input
    ``x*_t + (x*_{t+1} - x*_t) tau / dt`` with ``x* = arctanh(r_hat)``, which makes its state
    follow ``x*`` (``r_hat``: the scaled recorded rates of :func:`~neurolearn.rnnfit.student.
    target_transform`).

    Parameters
    ----------
    {parameters}

    Every :meth:`fit` validates the parameters and trains a new network from ``seed``. After a
    fit, ``dt_ms`` and ``tau_ms`` take effect in :meth:`predict`; a changed ``n_units`` makes
    :meth:`predict`, :meth:`velocity` and :meth:`jacobian` raise until :meth:`fit` runs again;
    the other parameters act on the next :meth:`fit` only.

    Attributes
    ----------
    params_ : dict
        ``recurrent``, ``feedback``, ``input``, ``readout``.
    history_ : History
        Record axis ``epoch`` (1, 2, ...) with the ``loss`` of each epoch (output MSE / output
        variance, during training).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.rnnfit import Recording
    >>> t = np.linspace(0, 1, 30)
    >>> rec = Recording(rates=np.zeros((1, 30, 0)), dt_ms=20.0, inputs=np.ones((1, 30, 1)),
    ...                 outputs=np.sin(6 * t)[None, :, None])
    >>> fs = ForceStudent(n_units=50, n_epochs=10, seed=0).fit(rec)
    >>> bool(fs.history_["loss"][-1] < 0.1)
    True
    """

    params = D.FORCE_STUDENT_PARAMS

    def _validate(self):
        self._check_params()

    def fit(self, recording) -> ForceStudent:
        """Train on ``recording`` (a :class:`~neurolearn.rnnfit.Recording`); returns ``self``."""
        from neurolearn._kernels.numba.rnnfit import force_trial
        from neurolearn.rnnfit.recording import Recording
        from neurolearn.rnnfit.student import target_transform

        self._validate()
        if not isinstance(recording, Recording):
            raise ParameterTypeError(
                f"The 'recording' parameter of {_OWNER}.fit must be a Recording. "
                f"Got {type(recording).__name__} instead."
            )
        recording.check()
        if not np.isclose(recording.dt_ms, self.dt_ms):
            raise ParameterError(
                f"The 'recording' has dt_ms={recording.dt_ms} but the {_OWNER} has "
                f"dt_ms={self.dt_ms}; resample the recording or set dt_ms={recording.dt_ms}."
            )
        if recording.inputs is None or recording.outputs is None:
            raise ParameterError(f"{_OWNER}.fit needs a recording with 'inputs' and 'outputs'.")
        k = recording.n_recorded if self.fit_recorded else 0
        if k > self.n_units:
            raise ParameterError(
                f"The recording has {k} recorded neurons but the {_OWNER} has "
                f"n_units={self.n_units}."
            )
        rng_init, rng_order = as_generator(self.seed, _OWNER).spawn(2)
        n, n_in, n_out = self.n_units, recording.inputs.shape[2], recording.outputs.shape[2]
        a = self.dt_ms / self.tau_ms
        self.centre_, self.scale_ = target_transform(recording.rates, self.target_amplitude)
        params = {
            "recurrent": self.init_gain * rng_init.standard_normal((n, n)) / np.sqrt(n),
            "feedback": rng_init.uniform(-self.feedback_scale, self.feedback_scale, (n, n_out)),
            "input": rng_init.standard_normal((n, n_in)) / np.sqrt(n_in),
            "readout": np.zeros((n_out, n)),
        }
        inv_corr = np.eye(n) / self.alpha
        recorded = np.arange(k, dtype=np.int64)
        c, t_steps = recording.n_conditions, recording.n_steps
        if k:
            scaled = (recording.rates - self.centre_) / self.scale_
            xstar = np.arctanh(np.clip(scaled, -0.999, 0.999))
            unit_target = xstar.copy()
            unit_target[:, :-1] += np.diff(xstar, axis=1) / a
        else:
            unit_target = np.zeros((c, t_steps, 0))
        var = max(float(recording.outputs.var()), 1e-12)
        z_out = np.empty((t_steps, n_out))
        state_out = np.empty((t_steps, n))
        losses = []
        for epoch in range(self.n_epochs):
            total = 0.0
            for cond in rng_order.permutation(c):
                x = np.zeros(n)
                force_trial(
                    x,
                    params["recurrent"],
                    params["feedback"],
                    params["input"],
                    params["readout"],
                    inv_corr,
                    recording.inputs[cond],
                    recording.outputs[cond],
                    np.ascontiguousarray(unit_target[cond]),
                    recorded,
                    a,
                    self.update_every,
                    True,
                    z_out,
                    state_out,
                )
                if not np.all(np.isfinite(state_out)):
                    raise DivergenceError(
                        f"{_OWNER}: non-finite state in epoch {epoch}.", step=epoch
                    )
                total += float(np.mean((z_out - recording.outputs[cond]) ** 2))
            losses.append(total / c / var)
        self.params_ = params
        self.n_recorded_ = k
        self.history_ = History(
            "epoch", {"epoch": np.arange(1, len(losses) + 1), "loss": np.asarray(losses)}
        )
        return self

    def predict(self, inputs):
        """Run the trained network (no learning) on inputs ``(C, T, I)``.

        Returns
        -------
        dict
            ``states`` (C, T, N), ``rates`` = ``tanh(states)``, ``outputs`` (C, T, O).
        """
        from neurolearn._kernels.numba.rnnfit import force_trial

        p = self._fitted_params()
        n_in = p["input"].shape[1]
        u = check_array(
            f"{_OWNER}.predict",
            "inputs",
            inputs,
            ndim=3,
            shape=(None, None, n_in),
            shape_doc=f"(C, T, {n_in})",
        )
        c, t_steps, _ = u.shape
        n, n_out = p["recurrent"].shape[0], p["readout"].shape[0]
        states = np.empty((c, t_steps, n))
        outputs = np.empty((c, t_steps, n_out))
        dummy = np.zeros((1, 1))
        for cond in range(c):
            force_trial(
                np.zeros(n),
                p["recurrent"].copy(),
                p["feedback"],
                p["input"],
                p["readout"].copy(),
                dummy,
                np.ascontiguousarray(u[cond]),
                np.zeros((t_steps, n_out)),
                np.zeros((t_steps, 0)),
                np.zeros(0, np.int64),
                self.dt_ms / self.tau_ms,
                1,
                False,
                outputs[cond],
                states[cond],
            )
        return {"states": states, "rates": np.tanh(states), "outputs": outputs}

    def _fitted_params(self) -> dict:
        """The fitted weights, after checking that the parameters still describe them."""
        return _fitted_params(self, _OWNER)

    def _effective(self):
        p = self._fitted_params()
        return p["recurrent"] + p["feedback"] @ p["readout"]

    def velocity(self, state):
        """``tau dx/dt`` without input (feedback folded in): ``-x + (J + W_fb W_out) tanh(x)``."""
        w = self._effective()
        state = _check_state(state, w.shape[0], "velocity")
        return -state + w @ np.tanh(state)

    def jacobian(self, state):
        """Jacobian of ``tau dx/dt`` at ``state``."""
        w = self._effective()
        state = _check_state(state, w.shape[0], "jacobian")
        return -np.eye(w.shape[0]) + w * (1 - np.tanh(state) ** 2)[None, :]


def _fitted_params(model, owner: str) -> dict:
    """``model.params_`` after validating ``model`` and checking ``n_units`` still matches it.

    Shared by the fitted rate-network students (:class:`ForceStudent`, ``RNNStudent``).
    """
    if not hasattr(model, "params_"):
        raise NotFittedError(f"{owner} is not fitted; call fit() first.")
    model._validate()
    n_fit = model.params_["recurrent"].shape[0]
    if model.n_units != n_fit:
        raise ParameterError(
            f"The 'n_units' parameter of {owner} changed from {n_fit} to {model.n_units} "
            "after fit; call fit() again to train a network of the new size."
        )
    return model.params_


def _check_state(state, n: int, method: str, owner: str = _OWNER) -> np.ndarray:
    return check_array(f"{owner}.{method}", "state", state, ndim=1, shape=(n,), shape_doc=f"({n},)")
