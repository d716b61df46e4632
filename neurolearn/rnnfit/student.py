"""The BPTT student: a rate RNN fit by Adam to outputs and to the recorded neurons."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._history import History
from neurolearn._params import check_array
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.rnnfit import _declared as D
from neurolearn.rnnfit.force import _check_state, _fitted_params

__all__ = ["RNNStudent", "target_transform"]

_OWNER = "RNNStudent"


def target_transform(rates, amplitude: float):
    """Centre and scale recorded rates into the student's ``tanh`` range.

    Each neuron's mean over conditions and time is subtracted; all neurons share one scale so
    that the largest deviation becomes ``amplitude``. Returns ``(centre (K,), scale)`` with
    ``target = (rates - centre) / scale``.
    """
    centre = rates.mean(axis=(0, 1))
    dev = np.abs(rates - centre).max() if rates.size else 0.0
    scale = dev / amplitude if dev > 0 else 1.0
    return centre, float(scale)


class RNNStudent(Estimator):
    """Rate RNN trained by backpropagation through time on outputs and recorded neurons.

    The student follows ``tau dx/dt = -x + J tanh(x) + B u + b`` (Euler step ``dt_ms``), reads
    out ``z = W_out tanh(x)``, and minimises

    .. math::
        L = \\frac{\\langle |z - z^*|^2 \\rangle}{\\mathrm{Var}(z^*)}
            + \\lambda \\frac{1}{|S| \\mathrm{Var}(\\hat r)} \\sum_{i \\in S}
              \\langle (\\tanh(x_i) - \\hat r_i)^2 \\rangle

    where student unit ``i < |S|`` stands for the ``i``-th recorded neuron, whose rates are
    centred and scaled into ``\\hat r_i`` (:func:`target_transform`); the other units are free.
    Both errors are divided by their targets' variance (pooled over conditions, time and
    columns), so each term reads as a fraction of unexplained variance and ``lambda = 1``
    weighs them equally.

    Parameters
    ----------
    {parameters}

    Every :meth:`fit` validates the parameters and trains a new network from ``seed``. After a
    fit, ``dt_ms`` and ``tau_ms`` take effect in :meth:`predict`; a changed ``n_units`` makes
    :meth:`predict`, :meth:`velocity` and :meth:`jacobian` raise until :meth:`fit` runs again;
    the other parameters act on the next :meth:`fit` only.

    Attributes
    ----------
    params_ : dict of str to ndarray
        ``recurrent`` (N, N), ``input`` (N, I), ``bias`` (N,), ``readout`` (O, N).
    history_ : History
        Record axis ``epoch`` (1, 2, ...) with the training ``loss`` of each epoch;
        ``val_epoch`` and ``val_loss`` at each validation (dimension ``validation``).
    best_epoch_, n_epochs_run_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.rnnfit import Recording
    >>> t = np.linspace(0, 1, 20)
    >>> rec = Recording(rates=np.zeros((2, 20, 0)), dt_ms=20.0, inputs=np.ones((2, 20, 1)),
    ...                 outputs=np.stack([np.sin(3 * t), np.cos(3 * t)])[:, :, None])
    >>> st = RNNStudent(n_units=20, n_epochs=50, learning_rate=1e-2, seed=0).fit(rec)
    >>> bool(st.history_["loss"][-1] < st.history_["loss"][0])
    True
    """

    params = D.RNN_STUDENT_PARAMS

    # ------------------------------------------------------------------ validation
    def _validate(self):
        self._check_params()
        if self.dt_ms > self.tau_ms:
            raise ParameterError(
                f"The 'dt_ms' parameter of {_OWNER} must not exceed tau_ms ({self.tau_ms}). "
                f"Got {self.dt_ms} instead."
            )
        from neurolearn.backend import resolve_backend

        return resolve_backend("torch", self.device)

    def _check_recording(self, rec, name):
        from neurolearn.rnnfit.recording import Recording

        if not isinstance(rec, Recording):
            raise ParameterTypeError(
                f"The '{name}' parameter of {_OWNER}.fit must be a Recording. "
                f"Got {type(rec).__name__} instead."
            )
        rec.check()
        if not np.isclose(rec.dt_ms, self.dt_ms):
            raise ParameterError(
                f"The '{name}' recording has dt_ms={rec.dt_ms} but the {_OWNER} has "
                f"dt_ms={self.dt_ms}; resample the recording or set dt_ms={rec.dt_ms}."
            )
        if rec.inputs is None or rec.outputs is None:
            missing = "inputs" if rec.inputs is None else "outputs"
            raise ParameterError(
                f"The '{name}' recording has no '{missing}' field; {_OWNER} needs both."
            )
        if rec.n_recorded > self.n_units:
            raise ParameterError(
                f"The '{name}' recording has {rec.n_recorded} recorded neurons but the student "
                f"has n_units={self.n_units}; each recorded neuron needs its own unit."
            )

    # ------------------------------------------------------------------ tensors
    def _tensors(self, rec, torch, dev, dt):
        inputs = torch.as_tensor(rec.inputs.transpose(1, 0, 2).copy(), dtype=dt, device=dev)
        outputs = torch.as_tensor(rec.outputs.transpose(1, 0, 2).copy(), dtype=dt, device=dev)
        targets = (rec.rates - self.centre_) / self.scale_
        targets = torch.as_tensor(targets.transpose(1, 0, 2).copy(), dtype=dt, device=dev)
        return inputs, outputs, targets

    def _rollout(self, params, inputs):
        import torch

        from neurolearn._kernels.torch import rnnfit as kern

        drive = inputs @ params["input"].T + params["bias"]
        x0 = torch.zeros(inputs.shape[1], self.n_units, dtype=drive.dtype, device=drive.device)
        fn = kern.rollout_fused if self.loop == "fused" else kern.rollout_autograd
        return fn(x0, params["recurrent"], drive, self.dt_ms / self.tau_ms)

    def _loss(self, params, inputs, outputs, targets):
        rates = self._rollout(params, inputs)
        z = rates @ params["readout"].T
        loss = ((z - outputs) ** 2).mean() / self.output_var_
        k = targets.shape[2]
        if k and self.recorded_weight > 0:
            err = ((rates[:, :, :k] - targets) ** 2).mean() / self.target_var_
            loss = loss + self.recorded_weight * err
        return loss

    # ------------------------------------------------------------------ fit
    def fit(self, recording, validation=None) -> RNNStudent:
        """Train on ``recording``; ``validation`` drives early stopping.

        Returns ``self``. Resumes from ``checkpoint`` when that file exists.
        """
        backend = self._validate()
        torch = _torch()
        before = torch.get_num_threads()
        if self.n_threads is not None and backend.device == "cpu":
            torch.set_num_threads(self.n_threads)
        try:
            return self._fit(recording, validation, backend, torch)
        finally:
            torch.set_num_threads(before)

    def _fit(self, recording, validation, backend, torch):
        self._check_recording(recording, "recording")
        if validation is not None:
            self._check_recording(validation, "validation")
            if validation.n_recorded != recording.n_recorded or not np.array_equal(
                validation.recorded, recording.recorded
            ):
                raise ParameterError(
                    "The 'validation' recording must record the same neurons as 'recording'."
                )
        if self.patience is not None and validation is None:
            raise ParameterError(f"{_OWNER}(patience=...) needs a validation recording.")
        dev = backend.torch_device()
        dt = torch.float32 if self.dtype == "float32" else torch.float64
        self.centre_, self.scale_ = target_transform(recording.rates, self.target_amplitude)
        self.output_var_ = float(max(recording.outputs.var(), 1e-12))
        scaled = (recording.rates - self.centre_) / self.scale_
        self.target_var_ = float(max(scaled.var(), 1e-12)) if scaled.size else 1.0
        self.n_recorded_ = recording.n_recorded
        rng_init, rng_batch = as_generator(self.seed, _OWNER).spawn(2)
        n, n_in, n_out = self.n_units, recording.inputs.shape[2], recording.outputs.shape[2]
        init = {
            "recurrent": self.init_gain * rng_init.standard_normal((n, n)) / np.sqrt(n),
            "input": rng_init.standard_normal((n, n_in)) / np.sqrt(n_in),
            "bias": np.zeros(n),
            "readout": rng_init.standard_normal((n_out, n)) / np.sqrt(n),
        }
        params = {
            k: torch.tensor(v, dtype=dt, device=dev, requires_grad=True) for k, v in init.items()
        }
        opt = torch.optim.Adam(list(params.values()), lr=self.learning_rate)
        train = self._tensors(recording, torch, dev, dt)
        val = self._tensors(validation, torch, dev, dt) if validation is not None else None
        state = {
            "epoch": 0,
            "best_loss": np.inf,
            "best_epoch": 0,
            "bad": 0,
            "best": None,
            "loss": [],
            "val_epoch": [],
            "val_loss": [],
        }
        ckpt = Path(self.checkpoint) if self.checkpoint is not None else None
        self._fp = self._fingerprint(recording)
        if ckpt is not None and ckpt.exists():
            self._load_checkpoint(ckpt, params, opt, rng_batch, state, recording, torch)
        n_cond = recording.n_conditions
        batch = n_cond if self.batch_size is None else min(self.batch_size, n_cond)
        stopped = False
        while state["epoch"] < self.n_epochs and not stopped:
            order = rng_batch.permutation(n_cond)
            total = 0.0
            for start in range(0, n_cond, batch):
                idx = torch.as_tensor(order[start : start + batch], device=dev)
                opt.zero_grad(set_to_none=True)
                loss = self._loss(params, *(a[:, idx] for a in train))
                loss.backward()
                if self.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(list(params.values()), self.grad_clip)
                opt.step()
                total += float(loss.detach()) * len(idx)
            total /= n_cond
            state["epoch"] += 1
            state["loss"].append(total)
            if not np.isfinite(total):
                raise DivergenceError(
                    f"{_OWNER}: training loss became {total} at epoch {state['epoch']}.",
                    step=state["epoch"],
                )
            if val is not None and state["epoch"] % self.validate_every == 0:
                with torch.no_grad():
                    vloss = float(self._loss(params, *val))
                state["val_epoch"].append(state["epoch"])
                state["val_loss"].append(vloss)
                if vloss < state["best_loss"]:
                    state.update(
                        best_loss=vloss,
                        best_epoch=state["epoch"],
                        bad=0,
                        best={k: v.detach().clone() for k, v in params.items()},
                    )
                else:
                    state["bad"] += 1
                    if self.patience is not None and state["bad"] >= self.patience:
                        stopped = True
            if ckpt is not None and (
                state["epoch"] % self.checkpoint_every == 0
                or state["epoch"] == self.n_epochs
                or stopped
            ):
                self._save_checkpoint(ckpt, params, opt, rng_batch, state, torch)
        final = (
            state["best"]
            if (self.patience is not None and state["best"] is not None)
            else {k: v.detach() for k, v in params.items()}
        )
        self.params_ = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in final.items()}
        self.history_ = History(
            "epoch",
            {
                "epoch": np.arange(1, len(state["loss"]) + 1),
                "loss": np.asarray(state["loss"]),
                "val_epoch": np.asarray(state["val_epoch"], dtype=np.int64),
                "val_loss": np.asarray(state["val_loss"]),
            },
            dims={"val_epoch": ("validation",), "val_loss": ("validation",)},
        )
        self.best_epoch_ = int(state["best_epoch"]) if state["best"] is not None else state["epoch"]
        self.n_epochs_run_ = int(state["epoch"])
        self.stopped_early_ = bool(stopped)
        return self

    # ------------------------------------------------------------------ checkpoints
    def _fingerprint(self, recording):
        return {
            "n_units": int(self.n_units),
            "tau_ms": float(self.tau_ms),
            "dt_ms": float(self.dt_ms),
            "recorded_weight": float(self.recorded_weight),
            "dtype": self.dtype,
            "recorded": recording.recorded.tolist(),
            "loop": self.loop,
            "learning_rate": float(self.learning_rate),
        }

    def _save_checkpoint(self, path, params, opt, rng, state, torch):
        blob = {
            "params": {k: v.detach().cpu() for k, v in params.items()},
            "optimizer": opt.state_dict(),
            "rng": rng.bit_generator.state,
            "state": {k: (None if v is None else v) for k, v in state.items() if k != "best"},
            "best": None
            if state["best"] is None
            else {k: v.cpu() for k, v in state["best"].items()},
            "fingerprint": self._fp,
        }
        tmp = Path(str(path) + ".tmp")
        torch.save(blob, tmp)
        os.replace(tmp, path)

    def _load_checkpoint(self, path, params, opt, rng, state, recording, torch):
        blob = torch.load(path, map_location="cpu", weights_only=False)
        if blob.get("fingerprint") != self._fingerprint(recording):
            raise ParameterError(
                f"The checkpoint {str(path)!r} was written by a student with different settings "
                "or data; delete it or point 'checkpoint' elsewhere."
            )
        with torch.no_grad():
            for k, v in params.items():
                v.copy_(blob["params"][k].to(v.device))
        opt.load_state_dict(blob["optimizer"])
        rng.bit_generator.state = blob["rng"]
        state.update(blob["state"])
        if blob["best"] is not None:
            dev = next(iter(params.values())).device
            state["best"] = {k: v.to(dev) for k, v in blob["best"].items()}

    # ------------------------------------------------------------------ use
    def predict(self, inputs):
        """Run the trained student on inputs ``(C, T, I)``.

        Returns
        -------
        dict
            ``states`` (C, T, N), ``rates`` = ``tanh(states)`` and ``outputs`` (C, T, O).
        """
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
        a = self.dt_ms / self.tau_ms
        c, t_steps, _ = u.shape
        x = np.zeros((c, self.n_units))
        states = np.empty((c, t_steps, self.n_units))
        drive = u @ p["input"].T + p["bias"]
        for t in range(t_steps):
            states[:, t] = x
            x = (1 - a) * x + a * (np.tanh(x) @ p["recurrent"].T + drive[:, t])
        rates = np.tanh(states)
        return {"states": states, "rates": rates, "outputs": rates @ p["readout"].T}

    def _fitted_params(self) -> dict:
        """The fitted weights, after checking that the parameters still describe them."""
        return _fitted_params(self, _OWNER)

    def velocity(self, state):
        """``tau dx/dt`` without input: ``-x + J tanh(x) + b``."""
        p = self._fitted_params()
        state = _check_state(state, self.n_units, "velocity", _OWNER)
        return -state + p["recurrent"] @ np.tanh(state) + p["bias"]

    def jacobian(self, state):
        """Jacobian of ``tau dx/dt`` at ``state``: ``-I + J diag(tanh'(x))``."""
        p = self._fitted_params()
        state = _check_state(state, self.n_units, "jacobian", _OWNER)
        return -np.eye(self.n_units) + p["recurrent"] * (1 - np.tanh(state) ** 2)[None, :]


def _torch():
    from neurolearn.backend import import_torch

    return import_torch()
