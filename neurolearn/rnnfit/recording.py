"""Recordings: condition-averaged rates of some neurons of a circuit, with inputs and outputs."""

from __future__ import annotations

import numbers
from datetime import UTC

import numpy as np

from neurolearn._params import Interval, _numeric_array, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError, ParameterTypeError

__all__ = ["Recording"]

_OWNER = "Recording"


def _as_block(name, value, *, n_cond=None, n_steps=None, last=None, allow_empty_last=False):
    """A (C, T, K) float array with a clear error for ragged input, NaN and shape mismatches."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except ValueError:
            raise ParameterError(
                f"The '{name}' field of {_OWNER} is ragged: every condition must have the same "
                "number of time steps and every step the same number of neurons (conditions x "
                "time x neurons)."
            ) from None
        except TypeError:
            raise ParameterTypeError(
                f"The '{name}' field of {_OWNER} must be an array of numbers. "
                f"Got {type(value).__name__} instead."
            ) from None
    if arr.dtype == object:
        raise ParameterError(
            f"The '{name}' field of {_OWNER} is ragged: every condition must have the same "
            "number of time steps and neurons (conditions x time x neurons)."
        )
    arr = _numeric_array(_OWNER, name, arr, np.float64)
    if arr.ndim != 3:
        raise ParameterError(
            f"The '{name}' field of {_OWNER} must have shape (conditions, time, {last or 'K'}). "
            f"Got shape {arr.shape} instead."
        )
    if n_cond is not None and arr.shape[0] != n_cond:
        raise ParameterError(
            f"The '{name}' field of {_OWNER} has {arr.shape[0]} conditions but 'rates' has "
            f"{n_cond}."
        )
    if n_steps is not None and arr.shape[1] != n_steps:
        raise ParameterError(
            f"The '{name}' field of {_OWNER} has {arr.shape[1]} time steps but 'rates' has "
            f"{n_steps}."
        )
    if last is not None and arr.shape[2] != last:
        raise ParameterError(
            f"The '{name}' field of {_OWNER} has {arr.shape[2]} columns but {last} were expected."
        )
    if arr.shape[2] == 0 and not allow_empty_last:
        raise ParameterError(f"The '{name}' field of {_OWNER} has no columns.")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        c, t, k = np.argwhere(~np.isfinite(arr))[0]
        raise ParameterError(
            f"The '{name}' field of {_OWNER} must be finite. Got {bad} NaN/Inf value(s), the "
            f"first at condition {c}, step {t}, column {k}."
        )
    return arr


class Recording:
    """Rates of recorded neurons (conditions x time x neurons), with inputs, outputs, time step.

    Parameters
    ----------
    rates : array (C, T, K)
        Rates (Hz) of the ``K`` recorded neurons; ``K`` may be 0 (output-only data).
    dt_ms : float
        Time step between samples.
    recorded : array of int (K,) or None, default=None
        Index of each recorded neuron in the circuit (``0 .. n_neurons - 1``, distinct);
        ``arange(K)`` when None.
    n_neurons : int or None, default=None
        Size of the circuit the neurons come from (``K`` when None).
    inputs : array (C, T, I) or None, default=None
        Inputs a model receives in each condition.
    outputs : array (C, T, O) or None, default=None
        Behavioural outputs (e.g. muscle activity).
    labels : array (C,) or None, default=None
        A number per condition (e.g. reach angle).
    go_step : int, default=0
        First step of the movement period (metrics such as jPCA use the steps after it).

    The arrays are validated when the Recording is made: ragged arrays, NaN/Inf, shapes that
    disagree between fields and out-of-range or repeated neuron indices raise ``ValueError``
    naming the field.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording(rates=np.ones((2, 5, 3)), dt_ms=10.0, recorded=[4, 0, 7], n_neurons=10)
    >>> rec.n_conditions, rec.n_steps, rec.n_recorded
    (2, 5, 3)
    """

    def __init__(
        self,
        *,
        rates,
        dt_ms,
        recorded=None,
        n_neurons=None,
        inputs=None,
        outputs=None,
        labels=None,
        go_step=0,
    ):
        self.rates = _as_block("rates", rates, allow_empty_last=True)
        c, t, k = self.rates.shape
        if c == 0 or t < 2:
            raise ParameterError(
                f"The 'rates' field of {_OWNER} needs at least 1 condition and 2 time steps. "
                f"Got shape {self.rates.shape}."
            )
        self.dt_ms = check_param(_OWNER, "dt_ms", dt_ms, Interval(float, 0, None, "neither"))
        self.inputs = None if inputs is None else _as_block("inputs", inputs, n_cond=c, n_steps=t)
        self.outputs = (
            None if outputs is None else _as_block("outputs", outputs, n_cond=c, n_steps=t)
        )
        self.n_neurons = (
            k
            if n_neurons is None
            else check_param(_OWNER, "n_neurons", n_neurons, Interval(int, max(k, 1), None))
        )
        if recorded is None:
            idx = np.arange(k, dtype=np.int64)
        else:
            idx = np.asarray(recorded)
            if idx.ndim != 1 or idx.shape[0] != k:
                raise ParameterError(
                    f"The 'recorded' field of {_OWNER} must list one circuit index per recorded "
                    f"neuron ({k}). Got shape {idx.shape}."
                )
            if k and not all(isinstance(v, numbers.Integral) for v in idx.tolist()):
                raise ParameterTypeError(f"The 'recorded' field of {_OWNER} must hold integers.")
            idx = idx.astype(np.int64)
            if k and (idx.min() < 0 or idx.max() >= self.n_neurons):
                bad = idx[(idx < 0) | (idx >= self.n_neurons)][0]
                raise ParameterError(
                    f"The 'recorded' field of {_OWNER} has index {bad} out of range for a circuit "
                    f"of n_neurons={self.n_neurons} (valid: 0..{self.n_neurons - 1})."
                )
            if len(np.unique(idx)) != k:
                raise ParameterError(f"The 'recorded' field of {_OWNER} repeats a neuron index.")
        self.recorded = idx
        if labels is None:
            self.labels = np.arange(c, dtype=np.float64)
        else:
            self.labels = check_array(_OWNER, "labels", labels).reshape(-1)
            if self.labels.shape[0] != c:
                raise ParameterError(
                    f"The 'labels' field of {_OWNER} has {self.labels.shape[0]} entries but "
                    f"'rates' has {c} conditions."
                )
        self.go_step = check_param(_OWNER, "go_step", go_step, Interval(int, 0, t - 1))

    def check(self) -> Recording:
        """Check the arrays again (they are public attributes) before they reach a kernel.

        Returns
        -------
        self

        Examples
        --------
        >>> rec = Recording(rates=np.zeros((2, 5, 3)), dt_ms=1.0)
        >>> rec.check().n_recorded
        3
        """
        self.rates = _as_block("rates", self.rates, allow_empty_last=True)
        c, t, _ = self.rates.shape
        for name in ("inputs", "outputs"):
            if getattr(self, name) is not None:
                setattr(self, name, _as_block(name, getattr(self, name), n_cond=c, n_steps=t))
        self.dt_ms = check_param(_OWNER, "dt_ms", self.dt_ms, Interval(float, 0, None, "neither"))
        return self

    # ------------------------------------------------------------------ shape
    @property
    def n_conditions(self) -> int:
        return self.rates.shape[0]

    @property
    def n_steps(self) -> int:
        return self.rates.shape[1]

    @property
    def n_recorded(self) -> int:
        return self.rates.shape[2]

    @property
    def recorded_fraction(self) -> float:
        return self.n_recorded / self.n_neurons

    def __repr__(self) -> str:
        return (
            f"Recording(conditions={self.n_conditions}, steps={self.n_steps}, "
            f"recorded={self.n_recorded}/{self.n_neurons}, dt_ms={self.dt_ms})"
        )

    def select(self, conditions) -> Recording:
        """A Recording with a subset of conditions (indices or a boolean mask)."""
        idx = np.arange(self.n_conditions)[np.asarray(conditions)]

        def pick(a):
            return None if a is None else a[idx]

        return Recording(
            rates=self.rates[idx],
            dt_ms=self.dt_ms,
            recorded=self.recorded,
            n_neurons=self.n_neurons,
            inputs=pick(self.inputs),
            outputs=pick(self.outputs),
            labels=self.labels[idx],
            go_step=self.go_step,
        )

    def subsample(self, fraction: float, *, seed=None) -> Recording:
        """Keep a random ``fraction`` of the recorded neurons (rounded; at least 0)."""
        f = check_param(_OWNER, "fraction", fraction, Interval(float, 0, 1))
        rng = as_generator(seed, _OWNER)
        k = int(round(f * self.n_recorded))
        keep = np.sort(rng.choice(self.n_recorded, size=k, replace=False))
        return Recording(
            rates=self.rates[:, :, keep],
            dt_ms=self.dt_ms,
            recorded=self.recorded[keep],
            n_neurons=self.n_neurons,
            inputs=self.inputs,
            outputs=self.outputs,
            labels=self.labels,
            go_step=self.go_step,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_spike_counts(cls, counts, *, dt_ms, **fields) -> Recording:
        """Binned spike counts ``(C, T, K)`` (per bin of ``dt_ms``) -> rates in Hz.

        Examples
        --------
        >>> import numpy as np
        >>> float(Recording.from_spike_counts(np.ones((1, 4, 2)), dt_ms=10.0).rates[0, 0, 0])
        100.0
        """
        dt = check_param(_OWNER, "dt_ms", dt_ms, Interval(float, 0, None, "neither"))
        counts = _as_block("counts", counts, allow_empty_last=True)
        if np.any(counts < 0):
            raise ParameterError(f"The 'counts' field of {_OWNER} must be >= 0.")
        return cls(rates=counts * (1000.0 / dt), dt_ms=dt, **fields)

    @classmethod
    def from_circuit(
        cls,
        circuit,
        states,
        *,
        dt_ms,
        recorded_fraction=1.0,
        recorded=None,
        inputs=None,
        labels=None,
        go_step=0,
        seed=None,
    ) -> Recording:
        """Record a simulated :class:`~neurolearn.rnnfit.RateCircuit`.

        Parameters
        ----------
        circuit : RateCircuit
            The circuit (its readout, when set, gives the outputs).
        states : array (C, T, N)
            Simulated states (``circuit.simulate(...)``).
        recorded_fraction : float in [0, 1], default=1.0
            Fraction of neurons recorded, drawn at random (ignored when ``recorded`` is given).
        recorded : array of int or None, default=None
            Explicit neuron indices.

        Examples
        --------
        >>> import numpy as np
        >>> from neurolearn.rnnfit import RateCircuit
        >>> c = RateCircuit(weights=np.zeros((10, 10)), readout=np.ones((1, 10)))
        >>> x = c.simulate(np.ones((2, 10)), np.ones(5), dt_ms=10.0)
        >>> Recording.from_circuit(c, x, dt_ms=10.0, recorded_fraction=0.3, seed=0).n_recorded
        3
        """
        n = circuit.n
        states = _as_block("states", states, last=n)
        if recorded is None:
            f = check_param(_OWNER, "recorded_fraction", recorded_fraction, Interval(float, 0, 1))
            rng = as_generator(seed, _OWNER)
            recorded = np.sort(rng.choice(n, size=int(round(f * n)), replace=False))
        recorded = np.asarray(recorded, dtype=np.int64)
        if recorded.size and (recorded.min() < 0 or recorded.max() >= n):
            raise ParameterError(
                f"The 'recorded' field of {_OWNER} has an index out of range for a circuit of "
                f"{n} neurons."
            )
        rates = circuit.rates(states)
        outputs = circuit.outputs(states) if circuit.readout is not None else None
        return cls(
            rates=rates[:, :, recorded],
            dt_ms=dt_ms,
            recorded=recorded,
            n_neurons=n,
            inputs=inputs,
            outputs=outputs,
            labels=labels,
            go_step=go_step,
        )

    # ------------------------------------------------------------------ NWB
    def to_nwb(self, path, *, session_description: str = "neurolearn rnnfit recording"):
        """Write an NWB file: one trial per condition, rates/inputs/outputs as TimeSeries.

        The trials table holds ``start_time``/``stop_time`` and the condition ``label``; a
        processing module ``rnnfit`` holds the TimeSeries ``rates`` (all trials concatenated in
        time), ``inputs``, ``outputs`` and a table ``recorded_neurons`` (``circuit_index``), plus
        a one-row table ``circuit`` (``n_neurons``, ``go_step``).
        """
        from datetime import datetime
        from uuid import UUID

        pynwb = _import_pynwb()
        from hdmf.common import DynamicTable, VectorData

        stamp = np.frombuffer(self.rates.tobytes()[:16].ljust(16, b"\0"), dtype=np.uint8)
        nwb = pynwb.NWBFile(
            session_description=session_description,
            identifier=str(UUID(bytes=bytes(stamp))),
            session_start_time=datetime(2000, 1, 1, tzinfo=UTC),
        )
        dur = self.n_steps * self.dt_ms / 1000.0
        nwb.add_trial_column(name="label", description="condition label (e.g. reach angle)")
        for c in range(self.n_conditions):
            nwb.add_trial(start_time=c * dur, stop_time=(c + 1) * dur, label=float(self.labels[c]))
        mod = nwb.create_processing_module(name="rnnfit", description="condition-averaged data")
        rate_hz = 1000.0 / self.dt_ms

        def series(name, arr, unit):
            flat = arr.reshape(arr.shape[0] * arr.shape[1], arr.shape[2])
            mod.add(
                pynwb.TimeSeries(name=name, data=flat, unit=unit, starting_time=0.0, rate=rate_hz)
            )

        series("rates", self.rates, "Hz")
        if self.inputs is not None:
            series("inputs", self.inputs, "a.u.")
        if self.outputs is not None:
            series("outputs", self.outputs, "a.u.")
        mod.add(
            DynamicTable(
                name="recorded_neurons",
                description="circuit index of each recorded neuron",
                columns=[
                    VectorData(
                        name="circuit_index",
                        description="index in the circuit",
                        data=self.recorded.tolist(),
                    )
                ],
            )
        )
        mod.add(
            DynamicTable(
                name="circuit",
                description="circuit size and movement onset",
                columns=[
                    VectorData(
                        name="n_neurons",
                        description="neurons in the circuit",
                        data=[int(self.n_neurons)],
                    ),
                    VectorData(
                        name="go_step", description="first movement step", data=[int(self.go_step)]
                    ),
                ],
            )
        )
        with pynwb.NWBHDF5IO(str(path), "w") as io:
            io.write(nwb)
        return path

    @classmethod
    def from_nwb(cls, path, *, dt_ms=None, condition_column: str = "label") -> Recording:
        """Read a Recording from an NWB file.

        Two layouts are read: a file written by :meth:`to_nwb`, and a file with a ``units``
        table (spike times) and a ``trials`` table: spikes are binned in ``dt_ms`` bins from
        each trial's ``start_time`` and averaged over trials with the same
        ``condition_column`` value (trial durations are cut to the shortest).

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> rec = Recording(rates=np.ones((2, 3, 1)), dt_ms=5.0)
        >>> path = os.path.join(tempfile.mkdtemp(), "r.nwb")
        >>> _ = rec.to_nwb(path)
        >>> Recording.from_nwb(path).rates.shape
        (2, 3, 1)
        """
        pynwb = _import_pynwb()
        with pynwb.NWBHDF5IO(str(path), "r") as io:
            nwb = io.read()
            if "rnnfit" in nwb.processing:
                return cls._from_rnnfit_module(nwb, dt_ms)
            return cls._from_units(nwb, dt_ms, condition_column, path)

    @classmethod
    def _from_rnnfit_module(cls, nwb, dt_ms):
        mod = nwb.processing["rnnfit"]
        rates_ts = mod["rates"]
        file_dt = 1000.0 / float(rates_ts.rate)
        if dt_ms is not None and not np.isclose(dt_ms, file_dt):
            raise ParameterError(
                f"The 'dt_ms' argument ({dt_ms}) disagrees with the file's time step "
                f"({file_dt} ms)."
            )
        trials = nwb.trials.to_dataframe()
        n_cond = len(trials)
        flat = np.asarray(rates_ts.data[:])
        n_steps = flat.shape[0] // n_cond

        def block(name):
            if name not in mod.data_interfaces:
                return None
            a = np.asarray(mod[name].data[:])
            return a.reshape(n_cond, n_steps, a.shape[1])

        circuit = mod["circuit"].to_dataframe()
        return cls(
            rates=flat.reshape(n_cond, n_steps, flat.shape[1]),
            dt_ms=file_dt,
            recorded=np.asarray(mod["recorded_neurons"]["circuit_index"].data[:], dtype=np.int64),
            n_neurons=int(circuit["n_neurons"].iloc[0]),
            inputs=block("inputs"),
            outputs=block("outputs"),
            labels=trials["label"].to_numpy(float),
            go_step=int(circuit["go_step"].iloc[0]),
        )

    @classmethod
    def _from_units(cls, nwb, dt_ms, condition_column, path):
        if nwb.units is None or nwb.trials is None:
            raise ParameterError(
                f"{path}: an NWB recording needs a 'units' table with spike times and a "
                "'trials' table (or the 'rnnfit' processing module written by to_nwb)."
            )
        if dt_ms is None:
            raise ParameterError(f"{path}: reading spike times needs a bin width: pass dt_ms=.")
        dt = check_param(_OWNER, "dt_ms", dt_ms, Interval(float, 0, None, "neither"))
        trials = nwb.trials.to_dataframe()
        if condition_column not in trials:
            raise ParameterError(
                f"{path}: the trials table has no column {condition_column!r} "
                f"(columns: {', '.join(trials.columns)}); pass condition_column=."
            )
        width = float((trials["stop_time"] - trials["start_time"]).min())
        n_steps = int(width * 1000.0 / dt)
        spikes = [np.asarray(nwb.units["spike_times"][i]) for i in range(len(nwb.units))]
        labels = np.unique(trials[condition_column].to_numpy(float))
        counts = np.zeros((labels.size, n_steps, len(spikes)))
        edges = np.arange(n_steps + 1) * dt / 1000.0
        for c, lab in enumerate(labels):
            rows = trials[trials[condition_column].to_numpy(float) == lab]
            for start in rows["start_time"].to_numpy(float):
                for k, st in enumerate(spikes):
                    counts[c, :, k] += np.histogram(st - start, bins=edges)[0]
            counts[c] /= len(rows)
        return cls.from_spike_counts(counts, dt_ms=dt, labels=labels)


def _import_pynwb():
    try:
        import pynwb
    except ImportError:
        from neurolearn.errors import MissingDependencyError

        raise MissingDependencyError(
            "Reading and writing NWB files needs pynwb: `pip install 'neurolearn[nwb]'`."
        ) from None
    return pynwb
