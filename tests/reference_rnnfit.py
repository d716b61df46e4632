"""Naive numpy references for the rnnfit kernels (plain loops, the obvious formulas)."""

import numpy as np


def gain(x, r0, rmax):
    if r0 <= 0:
        return np.tanh(x)
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        out[i] = r0 * np.tanh(v / r0) if v < 0 else (rmax - r0) * np.tanh(v / (rmax - r0))
    return out


def simulate(weights, drive, profile, x_init, dt_over_tau, r0, rmax):
    c, n = drive.shape
    out = np.empty((c, len(profile), n))
    for k in range(c):
        x = x_init[k].copy()
        for t in range(len(profile)):
            out[k, t] = x
            x = x + dt_over_tau * (-x + weights @ gain(x, r0, rmax) + profile[t] * drive[k])
    return out


def student_rates(x0, recurrent, drive, leak):
    """Rates (T, C, N) of x_{t+1} = (1 - a) x_t + a (J tanh(x_t) + v_t)."""
    x = x0.copy()
    out = []
    for t in range(drive.shape[0]):
        out.append(np.tanh(x))
        x = (1 - leak) * x + leak * (np.tanh(x) @ recurrent.T + drive[t])
    return np.stack(out)


def force_free_run(x, recurrent, feedback, input_weights, readout, inputs, leak):
    """States (T, N) and outputs (T, O) of the FORCE network without learning."""
    states, outs = [], []
    for t in range(inputs.shape[0]):
        r = np.tanh(x)
        z = readout @ r
        states.append(x.copy())
        outs.append(z)
        x = x + leak * (-x + recurrent @ r + feedback @ z + input_weights @ inputs[t])
    return np.array(states), np.array(outs)
