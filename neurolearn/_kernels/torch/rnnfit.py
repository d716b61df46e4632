"""PyTorch kernels of the rnnfit family: the student's Euler time loop, two ways.

The student is ``x_{t+1} = (1 - a) x_t + a (J tanh(x_t) + v_t)`` with ``a = dt / tau`` and a
precomputed input current ``v_t = B u_t + b``; both functions return the rates
``r_t = tanh(x_t)`` stacked time-major ``(T, C, N)``.

* :func:`rollout_autograd`: the usual way, a Python loop whose every step autograd records.
* :func:`rollout_fused`: the same numbers with a hand-written backward pass (backpropagation
  through time as one reverse loop of one matrix product per step, the weight gradient as a
  single matrix product over all steps), which keeps autograd's per-step bookkeeping out of
  the loop.
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


def _make_function():
    import torch

    class _Rollout(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x0, recurrent, drive, leak):
            n_steps = drive.shape[0]
            rates = torch.empty_like(drive)
            x = x0.clone()
            jt = recurrent.T.contiguous()
            for t in range(n_steps):
                r = torch.tanh(x)
                rates[t] = r
                if t + 1 < n_steps:
                    # x <- (1 - a) x + a (r J^T + v_t), fused in one addmm
                    x = torch.addmm(drive[t], r, jt, beta=leak, alpha=leak).add_(x, alpha=1.0 - leak)
            ctx.save_for_backward(rates, recurrent)
            ctx.leak = leak
            return rates

        @staticmethod
        def backward(ctx, grad_rates):
            rates, recurrent = ctx.saved_tensors
            a = ctx.leak
            n_steps = rates.shape[0]
            slope = 1.0 - rates * rates
            grad_x = torch.empty_like(rates)
            g = grad_rates[n_steps - 1] * slope[n_steps - 1]
            grad_x[n_steps - 1] = g
            for t in range(n_steps - 2, -1, -1):
                # dL/dx_t = (1 - a) dL/dx_{t+1} + (a dL/dx_{t+1} J + dL/dr_t) * tanh'(x_t)
                back = torch.addmm(grad_rates[t], g, recurrent, alpha=a)
                g = back.mul_(slope[t]).add_(g, alpha=1.0 - a)
                grad_x[t] = g
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
