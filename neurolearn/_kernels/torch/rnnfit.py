"""PyTorch kernels of the rnnfit family: the student's Euler time loop, two ways.

The student is ``x_{t+1} = (1 - a) x_t + a (J tanh(x_t) + v_t)`` with ``a = dt / tau`` and a
precomputed input current ``v_t = B u_t + b``; both functions return the rates
``r_t = tanh(x_t)`` stacked time-major ``(T, C, N)``.

* :func:`rollout_autograd`: the usual way, a Python loop whose every step autograd records.
* :func:`rollout_fused`: the same numbers with a hand-written backward pass (backpropagation
  through time as one reverse loop of one matrix product per step, the weight gradient as a
  single matrix product over all steps), which keeps autograd's per-step bookkeeping out of
  the loop; both loops are compiled with TorchScript when it is available.
"""

from __future__ import annotations

__all__ = ["rollout_autograd", "rollout_fused"]


def rollout_autograd(x0, recurrent, drive, leak: float):
    """Rates ``(T, C, N)`` from ``x0 (C, N)``, ``recurrent (N, N)``, ``drive (T, C, N)``."""
    import torch

    x = x0
    rates = []
    n_steps = drive.shape[0]
    for t in range(n_steps):
        r = torch.tanh(x)
        rates.append(r)
        if t + 1 < n_steps:
            x = (1.0 - leak) * x + leak * (r @ recurrent.T + drive[t])
    return torch.stack(rates)


def _forward_loop(x0, jt, drive, leak: float):
    n_steps = drive.shape[0]
    rates = drive.new_empty(drive.shape)
    x = x0.clone()
    for t in range(n_steps):
        r = x.tanh()
        rates[t] = r
        if t + 1 < n_steps:
            # x <- (1 - a) x + a (r J^T + v_t), fused in one addmm
            x = drive[t].addmm(r, jt, beta=leak, alpha=leak).add_(x, alpha=1.0 - leak)
    return rates


def _backward_loop(grad_rates, rates, recurrent, leak: float):
    n_steps = rates.shape[0]
    slope = 1.0 - rates * rates
    grad_x = rates.new_empty(rates.shape)
    g = grad_rates[n_steps - 1] * slope[n_steps - 1]
    grad_x[n_steps - 1] = g
    for i in range(n_steps - 1):
        t = n_steps - 2 - i
        # dL/dx_t = (1 - a) dL/dx_{t+1} + (a dL/dx_{t+1} J + dL/dr_t) * tanh'(x_t)
        back = grad_rates[t].addmm(g, recurrent, alpha=leak)
        g = back.mul_(slope[t]).add_(g, alpha=1.0 - leak)
        grad_x[t] = g
    return grad_x


def _compiled_loops():
    """The two loops compiled by TorchScript (no interpreter overhead per step), else as is."""
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.jit.script(_forward_loop), torch.jit.script(_backward_loop)
    except Exception:  # TorchScript missing or unable to compile: the same loops in Python
        return _forward_loop, _backward_loop


def _make_function():
    import torch

    forward_loop, backward_loop = _compiled_loops()

    class _Rollout(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x0, recurrent, drive, leak):
            rates = forward_loop(x0, recurrent.T.contiguous(), drive, float(leak))
            ctx.save_for_backward(rates, recurrent)
            ctx.leak = leak
            return rates

        @staticmethod
        def backward(ctx, grad_rates):
            rates, recurrent = ctx.saved_tensors
            a = ctx.leak
            grad_x = backward_loop(grad_rates.contiguous(), rates, recurrent, float(a))
            n = rates.shape[2]
            later = grad_x[1:].reshape(-1, n)
            earlier = rates[:-1].reshape(-1, n)
            grad_recurrent = a * (later.T @ earlier)
            grad_drive = torch.zeros_like(rates)
            grad_drive[:-1] = a * grad_x[1:]
            return grad_x[0], grad_recurrent, grad_drive, None

    return _Rollout


_FUNCTION = None


def rollout_fused(x0, recurrent, drive, leak: float):
    """Same as :func:`rollout_autograd`, with the hand-written backward pass."""
    global _FUNCTION
    if _FUNCTION is None:
        _FUNCTION = _make_function()
    return _FUNCTION.apply(x0, recurrent, drive, float(leak))
