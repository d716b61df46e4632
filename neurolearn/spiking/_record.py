"""What a run of a spiking network records: spikes, membrane traces, and statistics on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpikeRecord", "first_divergence", "record_of"]


@dataclass
class SpikeRecord:
    """Spikes and membrane traces of one run.

    Attributes
    ----------
    spike_steps, spike_ids : ndarray of int64
        Absolute time step and neuron of every spike, in time order (within a step by neuron).
    start_step, n_steps : int
        First absolute step of the run and its length.
    dt_ms : float
        Time step.
    n_exc, n_inh : int
        Population sizes.
    trace_ids : ndarray of int64
        Neurons whose membrane potential was recorded.
    v_trace_mv : ndarray, shape (n_steps, len(trace_ids))
        Membrane potential at the start of every step.

    Examples
    --------
    >>> rec = SpikeRecord(np.array([0, 10, 20]), np.array([0, 0, 1]), 0, 100, 1.0, 1, 1,
    ...                   np.array([], dtype=np.int64), np.zeros((100, 0)))
    >>> rec.rates_hz().tolist()
    [20.0, 10.0]
    """

    spike_steps: np.ndarray
    spike_ids: np.ndarray
    start_step: int
    n_steps: int
    dt_ms: float
    n_exc: int
    n_inh: int
    trace_ids: np.ndarray
    v_trace_mv: np.ndarray

    @property
    def n(self) -> int:
        return self.n_exc + self.n_inh

    @property
    def duration_ms(self) -> float:
        return self.n_steps * self.dt_ms

    @property
    def spike_times_ms(self) -> np.ndarray:
        """Spike times in ms (``step * dt``, Brian2's convention)."""
        return self.spike_steps * self.dt_ms

    def _select(self, population: str) -> np.ndarray:
        if population == "exc":
            return self.spike_ids < self.n_exc
        if population == "inh":
            return self.spike_ids >= self.n_exc
        if population == "all":
            return np.ones(self.spike_ids.shape, dtype=bool)
        raise ValueError(
            f"The 'population' parameter must be one of 'exc', 'inh', 'all'. Got {population!r}."
        )

    def _ids(self, population: str) -> np.ndarray:
        return {
            "exc": np.arange(self.n_exc),
            "inh": np.arange(self.n_exc, self.n),
            "all": np.arange(self.n),
        }[population]

    def trains(self) -> list[np.ndarray]:
        """Spike steps of each neuron, a list of ``n`` sorted arrays."""
        order = np.argsort(self.spike_ids, kind="stable")
        bounds = np.searchsorted(self.spike_ids[order], np.arange(self.n + 1))
        steps = self.spike_steps[order]
        return [steps[bounds[i] : bounds[i + 1]] for i in range(self.n)]

    def spike_counts(self) -> np.ndarray:
        """Number of spikes of each neuron."""
        return np.bincount(self.spike_ids, minlength=self.n)

    def rates_hz(self, start_ms: float = 0.0) -> np.ndarray:
        """Mean rate of each neuron (Hz), counting spikes from ``start_ms`` into the run."""
        first = self.start_step + int(round(start_ms / self.dt_ms))
        keep = self.spike_steps >= first
        seconds = (self.start_step + self.n_steps - first) * self.dt_ms / 1000.0
        return np.bincount(self.spike_ids[keep], minlength=self.n) / max(seconds, 1e-300)

    def population_rate_hz(self, population: str = "exc", start_ms: float = 0.0) -> float:
        """Mean rate over the neurons of ``population`` ('exc', 'inh' or 'all')."""
        return float(self.rates_hz(start_ms)[self._ids(population)].mean())

    def binned_rate_hz(
        self, bin_ms: float, population: str = "exc"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Population rate in bins of ``bin_ms``: ``(bin_start_ms, rate_hz)``."""
        bin_steps = max(int(round(bin_ms / self.dt_ms)), 1)
        n_bins = self.n_steps // bin_steps
        sel = self._select(population)
        local = (self.spike_steps[sel] - self.start_step) // bin_steps
        counts = np.bincount(local[local < n_bins], minlength=n_bins)
        size = len(self._ids(population))
        rate = counts / (max(size, 1) * bin_steps * self.dt_ms / 1000.0)
        starts = (self.start_step + np.arange(n_bins) * bin_steps) * self.dt_ms
        return starts, rate

    def cv_isi(self, population: str = "exc", min_spikes: int = 3, start_ms: float = 0.0):
        """Coefficient of variation of the inter-spike intervals of each neuron with at least
        ``min_spikes`` spikes from ``start_ms`` into the run on."""
        out = []
        first = self.start_step + int(round(start_ms / self.dt_ms))
        trains = self.trains()
        for i in self._ids(population):
            train = trains[i][trains[i] >= first]
            if len(train) >= min_spikes:
                isi = np.diff(train).astype(float)
                out.append(isi.std() / isi.mean())
        return np.asarray(out)

    def mean_cv_isi(self, population: str = "exc", min_spikes: int = 3, start_ms: float = 0.0):
        """Mean CV of ISI over neurons with at least ``min_spikes`` spikes (NaN if none)."""
        cv = self.cv_isi(population, min_spikes, start_ms)
        return float(cv.mean()) if cv.size else float("nan")


def first_divergence(a: SpikeRecord, b: SpikeRecord) -> int | None:
    """First absolute step at which two records' spike sets differ, or None if identical.

    Examples
    --------
    >>> e = np.zeros((5, 0))
    >>> a = SpikeRecord(np.array([1, 3]), np.array([0, 0]), 0, 5, 0.1, 1, 0, np.array([0])[:0], e)
    >>> b = SpikeRecord(np.array([1, 4]), np.array([0, 0]), 0, 5, 0.1, 1, 0, np.array([0])[:0], e)
    >>> first_divergence(a, b)
    3
    """
    ka = np.lexsort((a.spike_ids, a.spike_steps))
    kb = np.lexsort((b.spike_ids, b.spike_steps))
    sa, ia = a.spike_steps[ka], a.spike_ids[ka]
    sb, ib = b.spike_steps[kb], b.spike_ids[kb]
    m = min(len(sa), len(sb))
    diff = np.nonzero((sa[:m] != sb[:m]) | (ia[:m] != ib[:m]))[0]
    if diff.size:
        return int(min(sa[diff[0]], sb[diff[0]]))
    if len(sa) != len(sb):
        return int(sa[m] if len(sa) > m else sb[m])
    return None


def record_of(net, steps: list, ids: list, start_step: int, n_steps: int, v_trace) -> SpikeRecord:
    """The :class:`SpikeRecord` of a run of ``net`` from its chunks of spike steps and ids (an
    engine's output), starting at ``start_step``, with the voltage trace ``v_trace``."""
    conn = net.connectivity_
    return SpikeRecord(
        spike_steps=np.concatenate(steps) if steps else np.zeros(0, np.int64),
        spike_ids=np.concatenate(ids) if ids else np.zeros(0, np.int64),
        start_step=int(start_step),
        n_steps=int(n_steps),
        dt_ms=net.params_["dt_ms"],
        n_exc=conn.n_exc,
        n_inh=conn.n_inh,
        trace_ids=net.trace_ids_,
        v_trace_mv=v_trace,
    )
