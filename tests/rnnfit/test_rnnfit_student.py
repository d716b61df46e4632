"""BPTT student: kernel parity, training, checkpoint resume, early stopping, bad input."""

import numpy as np
import pytest
import reference_rnnfit as ref
from needs import optional_torch

from neurolearn.errors import BackendError, ParameterError
from neurolearn.rnnfit import Recording, RNNStudent

torch = optional_torch()
pytestmark = pytest.mark.torch


def _data(rng, c=3, t=12, k=2, n_neurons=6, shift=0.0):
    u = np.zeros((c, t, 2))
    ang = np.linspace(0, np.pi, c)[:, None]
    u[:, :4] = np.stack([np.cos(ang), np.sin(ang)], axis=2)
    tt = np.arange(t) / t
    outputs = np.sin(2 * np.pi * tt[None, :, None] + ang[:, :, None] + shift)
    rates = 10 + 5 * np.cos(3 * np.pi * tt[None, :, None] * np.arange(1, k + 1) + ang[:, :, None])
    return Recording(
        rates=rates,
        dt_ms=20.0,
        recorded=np.arange(k),
        n_neurons=n_neurons,
        inputs=u,
        outputs=outputs,
    )


@pytest.mark.parametrize("loop", ["fused", "autograd"])
def test_rollout_matches_numpy_reference_and_gradients_agree(loop, rng):
    from neurolearn._kernels.torch import rnnfit as kern

    n, c, t = 9, 3, 14
    x0 = rng.normal(size=(c, n))
    j = rng.normal(size=(n, n)) / 3
    drive = rng.normal(size=(t, c, n))
    fn = kern.rollout_fused if loop == "fused" else kern.rollout_autograd
    got = fn(torch.tensor(x0), torch.tensor(j), torch.tensor(drive), 0.1).numpy()
    np.testing.assert_allclose(got, ref.student_rates(x0, j, drive, 0.1), rtol=1e-12, atol=1e-13)


def test_fused_backward_equals_autograd(rng):
    from neurolearn._kernels.torch import rnnfit as kern

    n, c, t = 8, 2, 11
    grads = []
    for fn in (kern.rollout_autograd, kern.rollout_fused):
        x0 = torch.tensor(rng.normal(size=(c, n)), requires_grad=True)
        j = torch.tensor(np.ones((n, n)) * 0.1, requires_grad=True)
        d = torch.tensor(np.linspace(-1, 1, t * c * n).reshape(t, c, n), requires_grad=True)
        w = torch.tensor(np.cos(np.arange(t * c * n)).reshape(t, c, n))
        (fn(x0, j, d, 0.2) * w).sum().backward()
        grads.append([x0.grad.numpy(), j.grad.numpy(), d.grad.numpy()])
        rng = np.random.default_rng(12345)  # same x0 for both
    for a, b in zip(*grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    x0 = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    j = torch.randn(5, 5, dtype=torch.float64, requires_grad=True)
    d = torch.randn(6, 2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: kern.rollout_fused(a, b, c, 0.3), (x0, j, d))


def test_training_fits_outputs_and_recorded_units(rng):
    rec = _data(rng, t=20)
    kw = dict(n_units=24, n_epochs=150, learning_rate=1e-2, tau_ms=60.0, seed=0)
    fit = RNNStudent(recorded_weight=1.0, **kw).fit(rec)
    free = RNNStudent(recorded_weight=0.0, **kw).fit(rec)
    assert fit.history_["loss"][-1] < 0.2 * fit.history_["loss"][0]

    def unit_err(st):
        pred = st.predict(rec.inputs)["rates"][:, :, :2]
        target = (rec.rates - fit.centre_) / fit.scale_
        return np.mean((pred - target) ** 2) / np.var(target)

    assert unit_err(fit) < 0.3 < 1.0 < unit_err(free)


def test_seeded_determinism(rng):
    rec = _data(rng)
    a = RNNStudent(n_units=10, n_epochs=5, seed=3).fit(rec).params_
    b = RNNStudent(n_units=10, n_epochs=5, seed=3).fit(rec).params_
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_checkpoint_resume_equals_uninterrupted_run(rng, tmp_path):
    rec, val = _data(rng), _data(rng, shift=0.3)
    kw = dict(
        n_units=12,
        learning_rate=5e-3,
        batch_size=2,
        validate_every=3,
        patience=50,
        checkpoint_every=4,
        seed=1,
    )
    whole = RNNStudent(n_epochs=20, **kw).fit(rec, val)
    path = tmp_path / "ckpt.pt"
    first = RNNStudent(n_epochs=10, checkpoint=path, **kw).fit(rec, val)
    assert path.exists() and first.n_epochs_run_ == 10
    resumed = RNNStudent(n_epochs=20, checkpoint=path, **kw).fit(rec, val)
    assert resumed.n_epochs_run_ == 20
    for k in whole.params_:
        np.testing.assert_array_equal(resumed.params_[k], whole.params_[k])
    np.testing.assert_array_equal(resumed.history_["loss"], whole.history_["loss"])
    np.testing.assert_array_equal(resumed.history_["val_loss"], whole.history_["val_loss"])
    # a checkpoint from other settings is refused, not silently mixed in
    with pytest.raises(ParameterError, match="checkpoint .* different settings"):
        RNNStudent(n_epochs=30, checkpoint=path, **{**kw, "n_units": 13}).fit(rec, val)


def test_early_stopping_keeps_best_validation_weights(rng):
    rec = _data(rng)
    # validation outputs are the negated training outputs: fitting one unfits the other
    val = Recording(
        rates=rec.rates,
        dt_ms=rec.dt_ms,
        recorded=rec.recorded,
        n_neurons=rec.n_neurons,
        inputs=rec.inputs,
        outputs=-rec.outputs,
    )
    st = RNNStudent(
        n_units=16,
        n_epochs=400,
        learning_rate=1e-2,
        recorded_weight=0.0,
        patience=3,
        validate_every=5,
        seed=0,
    ).fit(rec, val)
    assert st.stopped_early_ and st.n_epochs_run_ < 400
    best = int(np.argmin(st.history_["val_loss"]))
    assert st.best_epoch_ == st.history_["val_epoch"][best]
    assert st.n_epochs_run_ == st.best_epoch_ + 3 * 5


def test_bad_input_named(rng):
    rec = _data(rng)
    with pytest.raises(ParameterError, match="dt_ms=20.0 but the RNNStudent has dt_ms=10.0"):
        RNNStudent(dt_ms=10.0, n_epochs=1).fit(rec)
    with pytest.raises(ParameterError, match="2 recorded neurons but the student has n_units=1"):
        RNNStudent(n_units=1, n_epochs=1).fit(rec)
    no_out = Recording(rates=rec.rates, dt_ms=20.0, inputs=rec.inputs)
    with pytest.raises(ParameterError, match="no 'outputs' field"):
        RNNStudent(n_epochs=1).fit(no_out)
    with pytest.raises(ParameterError, match="patience"):
        RNNStudent(n_epochs=1, patience=2).fit(rec)
    with pytest.raises(ParameterError, match="'learning_rate' parameter of RNNStudent"):
        RNNStudent(learning_rate=-1.0).fit(rec)
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="no CUDA GPU"):
            RNNStudent(device="cuda", n_epochs=1).fit(rec)


@pytest.mark.gpu
def test_cuda_matches_cpu(rng):
    rec = _data(rng)
    kw = dict(n_units=16, n_epochs=20, dtype="float64", seed=0)
    cpu = RNNStudent(**kw).fit(rec).params_
    gpu = RNNStudent(device="cuda", **kw).fit(rec).params_
    for k in cpu:
        np.testing.assert_allclose(gpu[k], cpu[k], rtol=1e-6, atol=1e-8)
