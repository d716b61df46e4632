"""Torch kernels of the student-teacher family: an ensemble of students trained at once.

Every tensor carries a leading ensemble axis ``E`` (seeds, flip configurations, learning rules
sharing one data-set size). The math is the one of
:func:`neurolearn._kernels.numba.teacher.train_minibatch_epochs`, batched over members.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

__all__ = ["activation_pair", "ensemble_errors", "ensemble_epoch", "EnsembleRule"]


class EnsembleRule(NamedTuple):
    """The batched learning rule of an ensemble (tensors with the member axis first).

    ``step_size`` per batch, ``phi``/``dphi``/``phi_out`` the activation functions of
    :func:`activation_pair`, sign tensors ``input_signs (E, M)``/``hidden_signs (E, N)``,
    ``feedback`` ``(E, K, N)`` or None (backpropagate through ``w2``), ``norm1``/``norm2``
    ``(E, 1, 1)`` target Frobenius norms or None for no rescaling.
    """

    step_size: float
    batch_size: int
    phi: Any
    dphi: Any
    phi_out: Any
    input_signs: Any
    hidden_signs: Any
    feedback: Any
    norm1: Any
    norm2: Any


def activation_pair(torch, name: str):
    """``(phi, phi_prime)`` as torch functions for an activation name."""
    if name == "linear":
        return (lambda u: u), (lambda u: torch.ones_like(u))
    if name == "tanh":
        return torch.tanh, (lambda u: 1.0 - torch.tanh(u) ** 2)
    if name == "relu":
        return torch.relu, (lambda u: (u > 0).to(u.dtype))
    if name == "sigmoid":
        return torch.sigmoid, (lambda u: torch.sigmoid(u) * (1.0 - torch.sigmoid(u)))
    root = math.sqrt(2.0)
    scale = math.sqrt(2.0 / math.pi)
    return (lambda u: torch.erf(u / root)), (lambda u: scale * torch.exp(-0.5 * u * u))


def ensemble_errors(w1, w2, x, y, phi, phi_out):
    """``0.5 * mean_p |y_hat - y|^2`` per member: ``w1 (E, N, M)``, ``x (E or 1, P, M)``."""
    hidden = phi(x @ w1.transpose(1, 2))
    out = phi_out(hidden @ w2.transpose(1, 2))
    return 0.5 * ((out - y) ** 2).sum(-1).mean(-1)


def ensemble_epoch(torch, w1, w2, rule, x, y, orders, active):
    """One epoch of sign-flipped mini-batch learning for every member, in place.

    ``rule`` is an :class:`EnsembleRule`; ``orders (E, P)`` are the members' permutations;
    ``active (E, 1, 1)`` is 1 for members still learning, 0 for frozen ones.
    """
    step, batch_size = rule.step_size, rule.batch_size
    phi, dphi, phi_out = rule.phi, rule.dphi, rule.phi_out
    fb, norm1, norm2 = rule.feedback, rule.norm1, rule.norm2
    n_samples = orders.shape[1]
    members = torch.arange(orders.shape[0], device=orders.device)[:, None]
    shared = x.shape[0] == 1
    s1 = rule.input_signs[:, None, :]
    s2 = rule.hidden_signs[:, None, :]
    for start in range(0, n_samples, batch_size):
        idx = orders[:, start : start + batch_size]
        nb = idx.shape[1]
        xb = x[0][idx] if shared else x[members, idx]
        yb = y[0][idx] if shared else y[members, idx]
        pre = xb @ w1.transpose(1, 2)
        hid = phi(pre)
        err = phi_out(hid @ w2.transpose(1, 2)) - yb
        back = err @ (w2 if fb is None else fb)
        delta = back * dphi(pre)
        scale = active * (step / nb)
        g2 = err.transpose(1, 2) @ hid
        g1 = delta.transpose(1, 2) @ xb
        w2.sub_(scale * g2 * s2)
        w1.sub_(scale * g1 * s1)
        if norm1 is not None:
            w1.mul_(norm1 / torch.linalg.vector_norm(w1, dim=(1, 2), keepdim=True))
            w2.mul_(norm2 / torch.linalg.vector_norm(w2, dim=(1, 2), keepdim=True))
