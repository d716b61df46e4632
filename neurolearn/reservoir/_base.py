"""Shared public behaviour of the reservoirs: running, streaming, batching, free running."""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import (
    Interval,
    Options,
    changed_params,
    check_array,
    check_param,
    init_param_names,
    refuse_changed,
    snapshot_params,
)
from neurolearn.backend import resolve_backend
from neurolearn.errors import (
    DivergenceError,
    NotFittedError,
    ParameterError,
    ParameterTypeError,
)
from neurolearn.reservoir._engine import DTYPES, KIND_EI, Net, closed_loop, simulate

__all__ = ["ReservoirBase", "run_batch"]


class ReservoirBase(Estimator):
    """Common methods; subclasses implement ``_build()`` (draw weights), ``_compile()`` and
    ``_net()``.

    Every use (``run``, ``iter_states``, ``free_run``, ``adapt``, ...) validates the parameters
    again. A parameter in ``_runtime_params`` that changed since the weights were drawn takes
    effect by recompiling the network with the same weights; any other changed parameter is
    structural and redraws the weights from ``seed`` (learned state such as adaptation is lost).
    """

    def _owner(self) -> str:
        return type(self).__name__

    # -- weights ----------------------------------------------------------------------------
    def initialize(self):
        """Draw the weights from ``seed`` (done automatically on first use). Returns self."""
        self._validate()
        self._build()
        self.last_state_ = None
        self._weights_given_ = False
        self._built_params_ = snapshot_params(self, init_param_names(self))
        return self

    def _ensure_initialized(self):
        """Validate the parameters; draw, redraw or recompile as their changes require."""
        built = getattr(self, "_built_params_", None)
        if built is None or not hasattr(self, "w_in_"):
            self.initialize()
            return
        changed = changed_params(built, self, init_param_names(self))
        if not changed:
            return  # the values the weights were built from were validated then
        self._validate()
        structural = [k for k in changed if k not in self._runtime_params]
        if structural:
            if getattr(self, "_weights_given_", False):
                refuse_changed(
                    self._owner(),
                    built,
                    self,
                    structural,
                    "but this reservoir was made from given weights (from_weights), which "
                    "cannot be redrawn. Set it back or build a new one.",
                )
            self.initialize()
            return
        self._compile()
        built.update(snapshot_params(self, changed))

    # -- inputs -----------------------------------------------------------------------------
    def _check_input(self, u, name="u"):
        d = self.n_inputs
        arr = check_array(
            self._owner(), name, u, ndim=(1, 2, 3), shape_doc=f"(T, {d}) or (B, T, {d})"
        )
        if arr.ndim == 1:
            if d != 1:
                raise ParameterError(
                    f"The '{name}' parameter of {self._owner()} must have shape (T, {d}). "
                    f"Got a 1-D array of length {arr.shape[0]} instead."
                )
            arr = arr[:, None]
        if arr.shape[-1] != d:
            shape = "(T, {0})" if arr.ndim == 2 else "(B, T, {0})"
            raise ParameterError(
                f"The '{name}' parameter of {self._owner()} must have shape {shape.format(d)} "
                f"(n_inputs={d}). Got shape {arr.shape} instead."
            )
        if arr.shape[-2] == 0:
            raise ParameterError(f"The '{name}' parameter of {self._owner()} has no time steps.")
        return arr

    def _initial(self, initial_state, n_batch):
        n = self._net().n
        if initial_state is None:
            v0 = np.zeros((n_batch, n))
            s0 = np.stack([self._net().initial_output(v0[0])] * n_batch)
            return s0, v0
        s0, v0 = self._check_initial_state(initial_state, n_batch)
        return s0, v0

    def _check_initial_state(self, initial_state, n_batch: int, name: str = "initial_state"):
        """``(state, potential)``, each of shape (n,) or (n_batch, n), as (n_batch, n) copies."""
        n = self._net().n
        want = f"a tuple (state, potential) of arrays of shape ({n},) or ({n_batch}, {n})"
        if not isinstance(initial_state, tuple | list) or len(initial_state) != 2:
            raise ParameterTypeError(
                f"The '{name}' parameter of {self._owner()} must be {want} (the form of "
                f"last_state_). Got {type(initial_state).__name__} instead."
            )
        out = []
        for part in initial_state:
            arr = check_array(self._owner(), name, part, ndim=(1, 2), shape_doc=want)
            if arr.shape not in ((n,), (1, n), (n_batch, n)):
                raise ParameterError(
                    f"The '{name}' parameter of {self._owner()} must be {want}. "
                    f"Got an array of shape {arr.shape} instead."
                )
            out.append(np.broadcast_to(arr, (n_batch, n)).copy())
        return out[0], out[1]

    # -- running ----------------------------------------------------------------------------
    def run(self, u, *, initial_state=None, continue_state: bool = False):
        """Drive the reservoir with ``u`` and return the states.

        Parameters
        ----------
        u : array of shape (T, n_inputs) or (B, T, n_inputs), or a list of arrays
            Input sequence, or ``B`` sequences run together in one kernel call. A list of
            sequences of different lengths ``(T_i, n_inputs)`` also runs in one kernel call
            (zero-padded to the longest; a sequence's states do not depend on what follows it)
            and returns a list of ``(T_i, n)`` states.
        initial_state : tuple (state, potential) or None, default=None
            Start here instead of at rest. ``last_state_`` has this form.
        continue_state : bool, default=False
            Start from ``last_state_`` (where the previous ``run`` ended).

        Returns
        -------
        states : ndarray of shape (T, n) or (B, T, n), or a list of (T_i, n) arrays
            ``states[t]`` is the state after input ``u[t]`` (rates for the E/I reservoir).
            After a list of sequences of different lengths ``last_state_`` is None (the
            kernel's final state is that after the padding).

        Examples
        --------
        >>> from neurolearn.reservoir import ESN
        >>> esn = ESN(n=20, seed=0)
        >>> [x.shape for x in esn.run([np.ones((5, 1)), np.ones((3, 1))])]
        [(5, 20), (3, 20)]
        """
        self._ensure_initialized()
        if isinstance(u, list | tuple):
            return self._run_sequences(u, initial_state, continue_state)
        arr = self._check_input(u)
        batched = arr.ndim == 3
        u3 = arr if batched else arr[None]
        if continue_state:
            if self.last_state_ is None:
                raise NotFittedError(
                    f"{self._owner()}.run(continue_state=True) needs a previous run."
                )
            initial_state = self.last_state_
        s0, v0 = self._initial(initial_state, u3.shape[0])
        states, s_fin, v_fin = simulate(
            [self._net()], u3, s0, v0, self._backend(), dtype=self._dtype()
        )
        self.last_state_ = (s_fin if batched else s_fin[0], v_fin if batched else v_fin[0])
        return states if batched else states[0]

    def _run_sequences(self, sequences, initial_state, continue_state):
        """A list of sequences of any lengths, zero-padded into one batched kernel call."""
        if not sequences:
            raise ParameterError(
                f"The 'u' parameter of {self._owner()} must be an array or a non-empty list of "
                "sequences. Got an empty list instead."
            )
        arrays = []
        for i, seq in enumerate(sequences):
            arr = self._check_input(seq, name=f"u[{i}]")
            if arr.ndim != 2:
                raise ParameterError(
                    f"The 'u[{i}]' parameter of {self._owner()} must be one sequence of shape "
                    f"(T, {self.n_inputs}). Got shape {arr.shape} instead."
                )
            arrays.append(arr)
        lengths = [a.shape[0] for a in arrays]
        padded = np.zeros((len(arrays), max(lengths), self.n_inputs))
        for b, arr in enumerate(arrays):
            padded[b, : lengths[b]] = arr
        if continue_state:
            if self.last_state_ is None:
                raise NotFittedError(
                    f"{self._owner()}.run(continue_state=True) needs a previous run."
                )
            initial_state = self.last_state_
        s0, v0 = self._initial(initial_state, len(arrays))
        states, s_fin, v_fin = simulate(
            [self._net()], padded, s0, v0, self._backend(), dtype=self._dtype()
        )
        out = [states[b, :length] for b, length in enumerate(lengths)]
        # the kernel's final state is that after the padding: only equal lengths have one
        equal = len(set(lengths)) == 1
        self.last_state_ = (s_fin, v_fin) if equal else None
        return out

    def _intrinsic_plasticity(self, u, target_mean, target_std: float):
        """Run intrinsic plasticity on ``u`` from rest with the current weights.

        Returns the adapted per-unit gain ``a`` and bias ``b`` of the unit's drive.
        """
        from neurolearn._kernels.numba.intrinsic import IPRule, intrinsic_plasticity
        from neurolearn.reservoir._engine import kernel_network

        net = self._net()
        arrays = kernel_network(net, "float64")
        rule = IPRule(
            float(self.ip_learning_rate),
            np.ascontiguousarray(np.broadcast_to(target_mean, (self.n,)), dtype=np.float64),
            float(target_std),
        )
        s0, v0 = self._initial(None, 1)
        s, v = s0[0].astype(np.float64), v0[0].copy()
        if net.kind == KIND_EI:
            a, b = np.full(self.n, float(net.gain)), np.full(self.n, -net.gain * net.threshold)
        else:
            a, b = np.ones(self.n), np.zeros(self.n)
        no_outputs = np.empty((0, self.n))
        bad = intrinsic_plasticity(arrays, rule, np.ascontiguousarray(u), a, b, s, v, no_outputs)
        if bad >= 0:
            raise DivergenceError(
                f"intrinsic plasticity: an output became NaN/Inf at step {bad}; lower "
                "ip_learning_rate.",
                step=bad,
            )
        return a, b

    def iter_states(self, u, *, chunk_steps: int = 1000, initial_state=None):
        """Yield ``(u_chunk, states_chunk)`` without ever holding all ``T x n`` states.

        Feed the chunks to :meth:`Readout.partial_fit` for a readout on a long run.

        Examples
        --------
        >>> from neurolearn.reservoir import ESN
        >>> esn = ESN(n=20, seed=0)
        >>> u = np.linspace(0, 1, 250)[:, None]
        >>> sum(x.shape[0] for _, x in esn.iter_states(u, chunk_steps=100))
        250
        """
        chunk_steps = check_param(self._owner(), "chunk_steps", chunk_steps, Interval(int, 1, None))
        self._ensure_initialized()
        arr = self._check_input(u)
        if arr.ndim != 2:
            raise ParameterError(f"iter_states takes one sequence of shape (T, {self.n_inputs}).")
        state = initial_state
        for start in range(0, arr.shape[0], chunk_steps):
            chunk = arr[start : start + chunk_steps]
            states = self.run(chunk, initial_state=state)
            state = self.last_state_
            yield chunk, states

    def free_run(self, readout, n_steps: int, *, initial_state=None):
        """Generate ``n_steps`` outputs with the readout's prediction fed back as input.

        The readout must map states to ``n_inputs`` outputs (one-step-ahead prediction).
        Starts from ``initial_state`` or ``last_state_`` (e.g. after a teacher-forced warm-up).
        Returns ``outputs (n_steps, n_inputs)``; NaN after the step where the run exploded.
        """
        self._ensure_initialized()
        n_steps = check_param(self._owner(), "n_steps", n_steps, Interval(int, 1, None))
        if not hasattr(readout, "coef_"):
            raise NotFittedError("free_run needs a fitted Readout.")
        if readout.coef_.shape[1] != self.n_inputs or readout.coef_.shape[0] != self.n:
            raise ParameterError(
                f"free_run needs a readout from {self.n} states to {self.n_inputs} outputs. "
                f"Got coefficients of shape {readout.coef_.shape} instead."
            )
        if initial_state is None:
            if self.last_state_ is None:
                raise NotFittedError("free_run needs a starting state: run a warm-up input first.")
            initial_state = self.last_state_
        s0, v0 = self._check_initial_state(initial_state, 1)
        coef = check_array(self._owner(), "readout.coef_", readout.coef_, ndim=2)
        intercept = check_array(
            self._owner(),
            "readout.intercept_",
            readout.intercept_,
            shape=(self.n_inputs,),
            shape_doc=f"({self.n_inputs},)",
        )
        _, outputs = closed_loop(self._net(), coef.T, intercept, s0[0], v0[0], n_steps)
        return outputs

    def _backend(self):
        return resolve_backend(self.backend, self.device)

    def _dtype(self) -> str:
        return check_param(
            self._owner(), "dtype", getattr(self, "dtype", "float64"), Options(DTYPES)
        )


def run_batch(reservoirs, u):
    """Run many reservoirs of the same kind and size together, in one kernel call.

    Parameters
    ----------
    reservoirs : sequence of EIReservoir or ESN
        Different seeds or parameter values; same ``n`` and ``n_inputs``. The backend and
        ``dtype`` of the first one are used.
    u : array of shape (T, d) or (B, T, d)
        One input for all, or one per reservoir.

    Returns
    -------
    states : ndarray of shape (B, T, n)

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> nets = [ESN(n=30, seed=s) for s in range(4)]
    >>> run_batch(nets, np.zeros((50, 1))).shape
    (4, 50, 30)
    """
    reservoirs = list(reservoirs)
    if not reservoirs:
        raise ParameterError(
            "The 'reservoirs' parameter of run_batch must hold at least one reservoir. "
            "Got an empty sequence instead."
        )
    bad = [type(r).__name__ for r in reservoirs if not isinstance(r, ReservoirBase)]
    if bad:
        raise ParameterTypeError(
            "The 'reservoirs' parameter of run_batch must hold ESN or EIReservoir objects. "
            f"Got {bad[0]} instead."
        )
    for r in reservoirs:
        r._ensure_initialized()
    first = reservoirs[0]
    arr = first._check_input(u)
    u3 = arr if arr.ndim == 3 else arr[None]
    n_batch = max(len(reservoirs), u3.shape[0])
    nets: list[Net] = [r._net() for r in reservoirs]
    v0 = np.zeros((n_batch, first.n))
    s0 = np.stack([nets[b if len(nets) > 1 else 0].initial_output(v0[b]) for b in range(n_batch)])
    states, _, _ = simulate(nets, u3, s0, v0, first._backend(), dtype=first._dtype())
    return states
