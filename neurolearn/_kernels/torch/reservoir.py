"""The reservoir step of :mod:`neurolearn._kernels.numba.reservoir` in PyTorch, batched.

Dense matrices on any device, in the dtype of the tensors passed (float64 or float32):
``W (B, n, n)`` for B networks (one ``bmm`` per step), or ``W (1, n, n)`` for one network
driven by B input sequences (one ``matmul`` of the ``(B, n)`` state block per step). The input
drive ``W_in u`` for all steps is computed in one ``einsum`` before the time loop. Same
equations, same state conventions.
"""

from __future__ import annotations

KIND_ESN = 0
KIND_EI = 1


def run_batch(net, u, start, store=True):
    """Advance ``B`` reservoirs over ``T`` steps.

    ``net`` is a ``DenseStack`` and ``start`` a ``State`` of ``(B, n)`` tensors
    (:mod:`neurolearn._kernels.reservoir_groups`), ``u (B, T, d)``. Returns ``(states (B, T, n)
    or None, s_final, v_final, diverged_at (B,) long tensor, -1 where finite)``.
    """
    import torch

    kind, W, w_in, bias, leak = net.kind, net.W, net.w_in, net.bias, net.leak
    gain, threshold = net.gain, net.threshold
    s0, v0 = start.s, start.v

    n_batch, n_steps = u.shape[0], u.shape[1]
    drive = torch.einsum("bnd,btd->btn", w_in, u) + bias[:, None, :]
    s = s0.clone()
    v = v0.clone()
    states = (
        torch.empty((n_batch, n_steps, s.shape[1]), dtype=s.dtype, device=s.device)
        if store
        else None
    )
    diverged_at = torch.full((n_batch,), -1, dtype=torch.long, device=s.device)
    gain_ = gain[:, None]
    thr_ = threshold[:, None]
    shared = W.shape[0] == 1
    W_t = W[0].T if shared else None
    for t in range(n_steps):
        if shared:
            pre = s @ W_t + drive[:, t]
        else:
            pre = torch.bmm(W, s[:, :, None])[:, :, 0] + drive[:, t]
        if kind == KIND_ESN:
            s = (1.0 - leak) * s + leak * torch.tanh(pre)
        else:
            v = leak * v + pre
            s = torch.sigmoid(gain_ * (v - thr_))
        if store:
            states[:, t] = s
        if t % 64 == 63 or t == n_steps - 1:
            bad = ~torch.isfinite(s).all(dim=1) & (diverged_at < 0)
            if bool(bad.any()):
                diverged_at[bad] = t
    return states, s, v, diverged_at


def adapt_local(net, rule, u, v, record, device=None):
    """The local inhibitory rule of :func:`neurolearn._kernels.numba.reservoir.adapt_local`.

    Same arguments (an ``ELLNetwork``, a ``LocalRule``, ``u``, ``v`` and a ``RateRecord`` of
    :mod:`neurolearn._kernels.reservoir_groups`, numpy arrays updated in place: ``net.inh_w``,
    ``v``, ``record.rate_record``, ``record.rate_sum``); the step runs as gathers over the
    fixed in-degree layout on ``device``. Returns the first non-finite step or -1.
    """
    import torch

    exc_idx, exc_w, inh_idx, inh_w = net.exc_idx, net.exc_w, net.inh_idx, net.inh_w
    w_in, leak, gain, threshold = net.w_in, net.leak, net.gain, net.threshold
    learning_rate, target = rule.learning_rate, rule.target
    record_every, rate_record, rate_sum = record.record_every, record.rate_record, record.rate_sum

    def t(x, dtype=torch.float64):
        return torch.as_tensor(x, dtype=dtype, device=device)

    e_idx, i_idx = t(exc_idx, torch.long), t(inh_idx, torch.long)
    e_w, i_w, win = t(exc_w), t(inh_w).clone(), t(w_in)
    lam, rho, eta = t(leak), t(target), t(learning_rate)
    drive = t(u) @ win.T
    vv = t(v).clone()
    r = torch.sigmoid(gain * (vv - threshold))
    total = torch.zeros_like(r)
    window = torch.zeros_like(r)
    bad = -1
    for step in range(u.shape[0]):
        pre = (e_w * r[e_idx]).sum(1) - (i_w * r[i_idx]).sum(1) + drive[step]
        vv = lam * vv + pre
        r = torch.sigmoid(gain * (vv - threshold))
        i_w = torch.clamp(i_w + (eta[step] * (r - rho))[:, None], min=0.0)
        window += r
        total += r
        if not bool(torch.isfinite(r).all()):
            bad = step
            break
        row = (step + 1) // record_every - 1
        if (step + 1) % record_every == 0 and row < rate_record.shape[0]:
            rate_record[row] = window.cpu().numpy() / record_every
            window.zero_()
    inh_w[...] = i_w.cpu().numpy()
    v[...] = vv.cpu().numpy()
    rate_sum[...] = total.cpu().numpy()
    return bad
