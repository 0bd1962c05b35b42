"""Compiled event-driven simulation engine (numba): one replication of a compiled scenario.

Implements ``docs/simulation.md`` (the semantics contract) over the flat arrays of
:class:`~flowplan.sim.compiled.CompiledScenario`. Time is in hours from 00:00 of day 0.

Design:

* one ``@njit(cache=True)`` core (:func:`_simulate`) plus jitted helpers; the small ones are
  inlined at numba-IR level (``inline="always"``): a called helper taking a dozen array
  arguments cost a reference-count call per array per call, which dominated the run time;
* each event handler defers its one future event, its releases and its join to the end of the
  handler, where each has a single inlined call site (order of pushes, releases and joins kept);
* future events sit in an array-based binary heap keyed by ``(time, sequence number)`` so ties
  are processed in the order they were scheduled; the payload packs the action code, the entity
  id and the entity's generation (to drop stale 111 abandonment events);
* hour boundaries (new capacities, escalation check, P1/P3 token release, starts) are processed
  before any event due at the same instant;
* work due *now* (a resource start, a hand-off to the next step) goes through a FIFO work ring,
  so no helper recurses;
* entity state lives in two preallocated 2-D arrays (floats, ints), recycled through a free list
  and grown by doubling;
* each resource's FIFO queue is a singly linked list through the entity arrays (abandoned 111
  calls are deleted lazily);
* time-weighted states (busy, waiting, capacity per resource; ward indicators) are integrated
  into day bins whenever they change; per-entity KPIs go into per-day sums by the day of the
  time that starts their clock.

Random numbers follow § 6: arrival times are pre-generated per stream in Python with
:func:`~flowplan.sim.compiled.generate_arrivals` (the reference method); generic-queue service
times are pre-drawn in sequence from their own stream (identical to drawing at each start, as
nothing else uses that stream); every other draw is made inside the jitted code from the
stream's own ``numpy.random.Generator`` with the primitive draws of
:func:`~flowplan.sim.distributions.sample_encoded`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba import types as nbtypes
from numba.core import cgutils as _cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

from flowplan.sim.compiled import (
    D_111_PATIENCE,
    D_111_SERVICE,
    D_111_TRAVEL,
    D_AMB_HANDOVER,
    D_AMB_ON_SCENE,
    D_AMB_TO_HOSPITAL,
    D_AMB_TO_SCENE,
    D_AMB_TURNAROUND,
    D_ED_ASSESSMENT,
    D_ED_TREATMENT,
    D_LOS_P0,
    D_P2_LOS,
    D_SDEC_SERVICE,
    D_UTC_SERVICE,
    N_BUILTIN_DISTS,
    N_BUILTIN_RESOURCES,
    N_BUILTIN_RNG_STREAMS,
    N_BUILTIN_STREAMS,
    NHS111_DISPOSITIONS,
    R_AMBULANCE_VEHICLES,
    R_ED_CLINICIANS,
    R_ED_CUBICLES,
    R_ED_TRIAGE,
    R_NHS111_HANDLERS,
    R_P2_BEDS,
    R_SDEC_CHAIRS,
    R_UTC_CLINICIANS,
    R_WARD_BEDS,
    CompiledScenario,
    generate_arrivals,
    kpi_names,
)
from flowplan.sim.output import ReplicationOutput

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Rngs = tuple[np.random.Generator, ...]

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _jit(fn: _Fn) -> _Fn:
    """``numba.njit(cache=True)`` keeping the function's static type for mypy."""
    return cast(_Fn, numba.njit(cache=True)(fn))


def _jit_sig(signature: Any) -> Callable[[_Fn], _Fn]:
    """``numba.njit(signature, cache=True)``: compiled once for exactly these types.

    Explicit signatures stop numba from compiling one specialisation per literal constant
    argument (resource index, action code), which multiplied compile time.
    """

    def wrap(fn: _Fn) -> _Fn:
        return cast(_Fn, numba.njit(signature, cache=True)(fn))

    return wrap


def _inline(fn: _Fn) -> _Fn:
    """``numba.njit(inline="always")``: inlined into callers at numba IR level (no refcounting
    of array arguments in the hot path)."""
    return cast(_Fn, numba.njit(cache=True, inline="always")(fn))


_cg: Any = _cgutils  # llvm code-generation helpers (untyped)
_numba: Any = numba


@cast(Callable[[Callable[..., Any]], Callable[..., Any]], intrinsic)
def _borrow(typingctx: Any, obj: Any) -> Any:
    """A copy of an array or Generator handle with no reference count (a borrowed view).

    Passing ordinary arrays to helper functions makes numba increment and decrement their
    reference counts atomically on every call, which took about half the run time; the
    borrowed view skips that. The caller keeps the owner alive for as long as the view is used.
    """
    if isinstance(obj, nbtypes.Array):

        def codegen_array(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            ary = context.make_array(obj)(context, builder, value=args[0])
            ary.meminfo = _cg.get_null_value(ary.meminfo.type)
            ary.parent = _cg.get_null_value(ary.parent.type)
            return ary._getvalue()

        return obj(obj), codegen_array
    if isinstance(obj, nbtypes.NumPyRandomGeneratorType):

        def codegen_gen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            gen = _cg.create_struct_proxy(obj)(context, builder, value=args[0])
            gen.meminfo = _cg.get_null_value(gen.meminfo.type)
            return gen._getvalue()

        return obj(obj), codegen_gen
    return None


# numba signatures of the helpers (C-contiguous arrays)
_f8, _i8, _void = numba.float64, numba.int64, numba.void
_F1, _F2, _F3 = _f8[::1], _f8[:, ::1], _f8[:, :, ::1]
_I1, _I2 = _i8[::1], _i8[:, ::1]
_GEN = _numba.typeof(np.random.Generator(np.random.PCG64(0)))
# ef, ei, rs, racc, twv, twl, twc, wk, st, fl
_STATE = (_F2, _I2, _I2, _F3, _F1, _F1, _F1, _I2, _I1, _I1)
_SIG_SAMPLE = _f8(_i8, _f8, _f8, _GEN)
_SIG_SAMPLE_MANY = _F1(_i8, _f8, _f8, _GEN, _i8)
_SIG_CATEGORICAL = _i8(_f8, _F1)
_SIG_TW_FLUSH = _void(_F1, _F1, _F1, _F2, _i8, _f8)
_SIG_PUSH = _void(_F2, _I2, _I2, _I1, _F1, _f8, _f8, _i8, _i8)
_SIG_POP = _void(_F2, _I2, _I2, _I1, _i8)
_SIG_RELEASE = _void(_i8, _f8, *_STATE)


# --- KPI thresholds (definitions in docs/simulation.md § 7; part of the KPI names) -------------

FOUR_HOURS = 4.0
TWELVE_HOURS = 12.0
CRTP_HOURS = 1.0
HANDOVER_30_HOURS = 0.5
HANDOVER_60_HOURS = 1.0
OCCUPANCY_THRESHOLD = 0.92
P95 = 95.0
HOURS_PER_DAY = 24.0

# --- random stream indices (compiled.RNG_STREAM_NAMES order) -----------------------------------

G_111_SERVICE = 5
G_111_PATIENCE = 6
G_ROUTING = 7
G_AMBULANCE = 8
G_ED = 9
G_LOS = 10
G_PATHWAY = 11
G_DISCHARGE = 12
G_READMISSION = 13
G_FRONT_DOOR = 14
G_CENSUS = 15

# --- actions (event / work codes) --------------------------------------------------------------

A_ARRIVAL = 0  # ent = arrival stream index
A_READMIT = 1  # ent = -1: a readmission reaches the front door
A_CALL_START = 2
A_CALL_END = 3
A_ABANDON = 4
A_FRONT_DOOR = 5
A_INCIDENT = 6
A_DISPATCH = 7
A_AT_SCENE = 8
A_SCENE_END = 9
A_HOSP_ARRIVE = 10
A_HANDOVER_START = 11
A_HANDOVER_END = 12
A_VEHICLE_FREE = 13  # ent = -1
A_ASSESS_START = 14
A_ASSESS_END = 15
A_CUBICLE_START = 16
A_TREAT_START = 17
A_TREAT_END = 18
A_UTC_START = 19
A_UTC_END = 20
A_SDEC_START = 21
A_SDEC_END = 22
A_BED_START = 23
A_OPTIMISED = 24
A_P0_DISCHARGE = 25
A_P2_START = 26
A_P2_END = 27
A_Q_START = 28
A_Q_END = 29

# --- entity fields ------------------------------------------------------------------------------

# int fields
E_GEN, E_NEXT, E_CODE, E_STATE, E_CENSUS, E_SRC, E_AMB, E_FROM, E_PATH, E_OPT, E_AUX, E_LIVE = (
    range(12)
)
N_EI = 12
# float fields (NaN = clock not running)
E_T0, E_TJOIN, E_TED, E_TDEC, E_TFD, E_THOSP = range(6)
N_EF = 6

CALL_WAITING, CALL_STARTED, CALL_ABANDONED = 0, 1, 2
AMB_SEE_AND_TREAT, AMB_CONVEY = 1, 2
FROM_DIRECT, FROM_ED, FROM_SDEC = 0, 1, 2

# --- resource state columns, scalar state slots -------------------------------------------------

RS_BUSY, RS_CAP, RS_QN, RS_QH, RS_QT = range(5)

(
    S_HN,  # near heap size
    S_HN_FAR,  # far heap size (must be S_HN + 1)
    S_SEQ,
    S_WH,
    S_WN,
    S_NFREE,
    S_CORE,
    S_ESC,
    S_POOL1,
    S_POOL3,
    S_XB,
    S_NRES,
    S_NTTA,
    S_DAY,
) = range(14)
N_S = 14
_U0, _U1, _U2, _U4 = np.uint64(0), np.uint64(1), np.uint64(2), np.uint64(4)
FAR_HOURS = 8.0  # engine tuning only: events further ahead than this wait in the far heap

# extras after the 3 per-resource time-weighted states
X_OVER92, X_AT100, X_ESC_USED, X_NCTR, X_NCTR_P1, X_NCTR_P2, X_NCTR_P3 = range(7)
N_X = 7

# --- per-day per-entity accumulators ------------------------------------------------------------

(
    K_ED_N4,
    K_ED_OK4,
    K_ED_N12,
    K_ED_BR12,
    K_ALL_N4,
    K_ALL_OK4,
    K_TTA_SUM,
    K_TTA_N,
    K_CRTP_N,
    K_CRTP_OVER,
    K_BOARDED,
    K_HO_N30,
    K_HO_30,
    K_HO_N60,
    K_HO_60,
    K_LOST,
    K_RESP_SUM,
    K_RESP_N,
    K_INC,
    K_CONV,
    K_ABAND,
    K_ANSW,
    K_DISP0,
) = range(23)
N_K = K_DISP0 + len(NHS111_DISPOSITIONS)

# racc columns
RA_ARR, RA_DEP, RA_WSUM, RA_WN = range(4)

_PACK_CODE = 256  # payload = code + 256 × (ent + 1) + 2^40 × (gen mod 2^20)
_PACK_GEN = 1 << 40
_GEN_MASK = (1 << 20) - 1


# ===============================================================================================
# jitted helpers
# ===============================================================================================


@_inline
def _gamma_ge1(a: float, rng: np.random.Generator) -> float:
    """Marsaglia–Tsang standard gamma draw for shape ``a ≥ 1`` (distributions._standard_gamma)."""
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        z = rng.standard_normal()
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = rng.random()
        if u > 0.0 and math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v


@_jit_sig(_SIG_SAMPLE)
def _sample(code: int, p1: float, p2: float, rng: np.random.Generator) -> float:
    """One draw (hours) of an encoded distribution, mirroring ``sample_encoded`` draw for draw."""
    if code == 0:
        return p1
    if code == 1:
        return -p1 * math.log(1.0 - rng.random())
    if code == 2:
        return math.exp(p1 + p2 * rng.standard_normal())
    if code == 3:
        if p1 < 1.0:
            x = _gamma_ge1(p1 + 1.0, rng)
            u = rng.random()
            return float(p2 * x * u ** (1.0 / p1))
        return float(p2 * _gamma_ge1(p1, rng))
    if code == 4:
        return p1 + (p2 - p1) * rng.random()
    total = 0.0
    for _ in range(int(p1)):
        total += math.log(1.0 - rng.random())
    return -p2 * total


@_jit_sig(_SIG_SAMPLE_MANY)
def _sample_many(code: int, p1: float, p2: float, rng: np.random.Generator, n: int) -> F64:
    """``n`` successive draws of an encoded distribution from one stream (hours)."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = _sample(code, p1, p2, rng)
    return out


@_jit_sig(_SIG_CATEGORICAL)
def _categorical(u: float, p: F64) -> int:
    """First outcome ``i`` with ``u < p[0] + … + p[i]`` (last positive one if rounding misses)."""
    cum = 0.0
    last = 0
    for i in range(p.shape[0]):
        if p[i] > 0.0:
            last = i
        cum += p[i]
        if u < cum:
            return i
    return last


@_inline
def _day(t: float) -> int:
    """Day index ``floor(t / 24)`` of a time ``t ≥ 0`` (hours), exact at midnights.

    Truncating ``t / 24`` and correcting a result rounded up avoids the slow floating modulo
    behind ``t // 24`` while keeping ``24 × day ≤ t`` exactly.
    """
    d = int(t / 24.0)
    if 24.0 * d > t:
        d -= 1
    return d


@_inline
def _tw_set(twv: F64, twl: F64, twc: F64, k: int, t: float, v: float) -> None:
    """Set time-weighted state ``k`` to ``v`` at ``t`` after integrating its old value.

    ``twc[k]`` is the integral since the current day's midnight; the hour-boundary code moves
    it into the day bin at each midnight (:func:`_tw_flush`), so no day index is needed here.
    """
    twc[k] += twv[k] * (t - twl[k])
    twl[k] = t
    twv[k] = v


@_jit_sig(_SIG_TW_FLUSH)
def _tw_flush(twv: F64, twl: F64, twc: F64, twa: F64, day: int, t: float) -> None:
    """Close day ``day`` at time ``t`` (its end): add every state's integral to its bin."""
    for k in range(twv.shape[0]):
        twa[k, day] = twc[k] + twv[k] * (t - twl[k])
        twc[k] = 0.0
        twl[k] = t


@_inline
def _push_payload(
    ht: F64, hs: I64, hp: I64, st: I64, now: F64, t: float, end: float, payload: int
) -> None:
    """Insert ``payload`` at time ``t`` (dropped when ``t ≥ end``); ties keep scheduling order.

    Each heap row is a 4-ary min-heap on ``(time, sequence number)`` (unsigned positions, so no
    negative-index checks). Events more than ``FAR_HOURS`` ahead of ``now[0]`` go to the far
    heap (row 1), others to the near heap (row 0); the main loop always takes the smaller root,
    so the split only keeps the busy near heap small.
    """
    if t >= end:
        return
    row = 1 if t - now[0] > FAR_HOURS else 0
    n = st[S_HN + row]
    seq = st[S_SEQ]
    st[S_SEQ] = seq + 1
    st[S_HN + row] = n + 1
    # 2-D indexing (no row views: a view would cost reference-count calls)
    i = np.uint64(n)
    while i > _U0:
        p = (i - _U1) >> _U2
        tp = ht[row, p]
        if tp < t or (tp == t and hs[row, p] < seq):
            break
        ht[row, i] = tp
        hs[row, i] = hs[row, p]
        hp[row, i] = hp[row, p]
        i = p
    ht[row, i] = t
    hs[row, i] = seq
    hp[row, i] = payload


@_jit_sig(_SIG_PUSH)
def _push(
    ht: F64, hs: I64, hp: I64, st: I64, now: F64, t: float, end: float, code: int, ent: int
) -> None:
    """Schedule action ``code`` on entity ``ent`` at ``t`` (dropped when ``t ≥ end``)."""
    _push_payload(ht, hs, hp, st, now, t, end, code + _PACK_CODE * (ent + 1))


@_jit_sig(_SIG_POP)
def _pop(ht: F64, hs: I64, hp: I64, st: I64, row: int) -> None:
    """Remove the root of heap ``row`` (the caller has read ``ht[row, 0]``, ``hp[row, 0]``)."""
    n = np.uint64(st[S_HN + row] - 1)
    st[S_HN + row] = n
    if n == _U0:
        return
    t = ht[row, n]
    s = hs[row, n]
    p = hp[row, n]
    i = _U0
    while True:
        c = (i << _U2) + _U1
        if c >= n:
            break
        m = c
        tm = ht[row, c]
        sm = hs[row, c]
        last = c + _U4 if c + _U4 < n else n
        j = c + _U1
        while j < last:
            tj = ht[row, j]
            if tj < tm or (tj == tm and hs[row, j] < sm):
                m = j
                tm = tj
                sm = hs[row, j]
            j += _U1
        if tm < t or (tm == t and sm < s):
            ht[row, i] = tm
            hs[row, i] = sm
            hp[row, i] = hp[row, m]
            i = m
        else:
            break
    ht[row, i] = t
    hs[row, i] = s
    hp[row, i] = p


@_inline
def _work(wk: I64, st: I64, code: int, ent: int) -> None:
    """Queue action ``code`` on entity ``ent`` to run at the current instant (FIFO)."""
    size = wk.shape[0]
    if st[S_WN] >= size:
        raise RuntimeError("fast engine: work ring overflow")
    j = (st[S_WH] + st[S_WN]) % size
    wk[j, 0] = code
    wk[j, 1] = ent
    st[S_WN] += 1


@_inline
def _alloc(ef: F64, ei: I64, st: I64, fl: I64) -> int:
    """A fresh entity id with every field reset (floats NaN)."""
    n = st[S_NFREE] - 1
    st[S_NFREE] = n
    e = fl[n]
    for j in range(N_EF):
        ef[e, j] = np.nan
    gen = ei[e, E_GEN]
    for j in range(N_EI):
        ei[e, j] = 0
    ei[e, E_GEN] = gen
    ei[e, E_NEXT] = -1
    ei[e, E_LIVE] = 1
    return int(e)


@_inline
def _free(e: int, ei: I64, st: I64, fl: I64) -> None:
    """Return entity ``e`` to the free list (its generation moves on)."""
    ei[e, E_LIVE] = 0
    ei[e, E_GEN] += 1
    fl[st[S_NFREE]] = e
    st[S_NFREE] += 1


@_inline
def _enqueue(e: int, r: int, t: float, ei: I64, rs: I64, twv: F64, twl: F64, twc: F64) -> None:
    """Append ``e`` to the FIFO list of queue ``r`` (count and time-weighted length updated)."""
    ei[e, E_NEXT] = -1
    tail = rs[r, RS_QT]
    if tail < 0:
        rs[r, RS_QH] = e
    else:
        ei[tail, E_NEXT] = e
    rs[r, RS_QT] = e
    rs[r, RS_QN] += 1
    _tw_set(twv, twl, twc, 3 * r + 1, t, float(rs[r, RS_QN]))


@_inline
def _dequeue_raw(r: int, ei: I64, rs: I64) -> int:
    """Unlink and return the head of queue ``r``'s list (counts untouched)."""
    e = rs[r, RS_QH]
    nxt = ei[e, E_NEXT]
    rs[r, RS_QH] = nxt
    if nxt < 0:
        rs[r, RS_QT] = -1
    ei[e, E_NEXT] = -1
    return int(e)


@_inline
def _ward_derived(t: float, rs: I64, twv: F64, twl: F64, twc: F64, st: I64) -> None:
    """Refresh the ward indicator states (> 92 %, at 100 %, escalation beds used)."""
    occ = rs[R_WARD_BEDS, RS_BUSY]
    av = rs[R_WARD_BEDS, RS_CAP]
    core = st[S_CORE]
    xb = st[S_XB]
    v92 = 1.0 if occ > OCCUPANCY_THRESHOLD * av else 0.0
    v100 = 1.0 if (av > 0 and occ >= av) else 0.0
    esc = float(occ - core) if occ > core else 0.0
    if twv[xb + X_OVER92] != v92:
        _tw_set(twv, twl, twc, xb + X_OVER92, t, v92)
    if twv[xb + X_AT100] != v100:
        _tw_set(twv, twl, twc, xb + X_AT100, t, v100)
    if twv[xb + X_ESC_USED] != esc:
        _tw_set(twv, twl, twc, xb + X_ESC_USED, t, esc)


@_inline
def _try_start(
    r: int,
    t: float,
    ef: F64,
    ei: I64,
    rs: I64,
    racc: F64,
    twv: F64,
    twl: F64,
    twc: F64,
    wk: I64,
    st: I64,
    fl: I64,
) -> None:
    """Start waiting entities of resource ``r`` (FIFO) while a unit is free."""
    started = False
    while rs[r, RS_BUSY] < rs[r, RS_CAP] and rs[r, RS_QN] > 0:
        e = _dequeue_raw(r, ei, rs)
        if ei[e, E_STATE] == CALL_ABANDONED and r == R_NHS111_HANDLERS:
            _free(e, ei, st, fl)
            continue
        rs[r, RS_QN] -= 1
        rs[r, RS_BUSY] += 1
        _tw_set(twv, twl, twc, 3 * r + 1, t, float(rs[r, RS_QN]))
        _tw_set(twv, twl, twc, 3 * r, t, float(rs[r, RS_BUSY]))
        if ei[e, E_CENSUS] == 0:
            tj = ef[e, E_TJOIN]
            dj = _day(tj)
            racc[r, RA_WSUM, dj] += t - tj
            racc[r, RA_WN, dj] += 1.0
        _work(wk, st, ei[e, E_CODE], e)
        started = True
    if started and r == R_WARD_BEDS:
        _ward_derived(t, rs, twv, twl, twc, st)


@_inline
def _join_inline(
    e: int,
    r: int,
    code: int,
    t: float,
    ef: F64,
    ei: I64,
    rs: I64,
    racc: F64,
    twv: F64,
    twl: F64,
    twc: F64,
    wk: I64,
    st: I64,
    fl: I64,
) -> None:
    """Entity ``e`` joins resource ``r``; action ``code`` runs when it starts."""
    racc[r, RA_ARR, st[S_DAY]] += 1.0
    ef[e, E_TJOIN] = t
    ei[e, E_CODE] = code
    _enqueue(e, r, t, ei, rs, twv, twl, twc)
    if rs[r, RS_BUSY] < rs[r, RS_CAP]:
        _try_start(r, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)


@_inline
def _release_inline(
    r: int,
    t: float,
    ef: F64,
    ei: I64,
    rs: I64,
    racc: F64,
    twv: F64,
    twl: F64,
    twc: F64,
    wk: I64,
    st: I64,
    fl: I64,
) -> None:
    """Release one unit of resource ``r`` at ``t`` (a departure); the queue head may start."""
    rs[r, RS_BUSY] -= 1
    _tw_set(twv, twl, twc, 3 * r, t, float(rs[r, RS_BUSY]))
    racc[r, RA_DEP, st[S_DAY]] += 1.0
    if rs[r, RS_QN] > 0 and rs[r, RS_BUSY] < rs[r, RS_CAP]:
        _try_start(r, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)
    if r == R_WARD_BEDS:
        _ward_derived(t, rs, twv, twl, twc, st)


@_jit_sig(_SIG_RELEASE)
def _release(
    r: int,
    t: float,
    ef: F64,
    ei: I64,
    rs: I64,
    racc: F64,
    twv: F64,
    twl: F64,
    twc: F64,
    wk: I64,
    st: I64,
    fl: I64,
) -> None:
    """:func:`_release_inline` as a called function (for callers other than the main loop)."""
    _release_inline(r, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)


@_inline
def _set_optimised(
    e: int, t: float, v: int, ei: I64, twv: F64, twl: F64, twc: F64, st: I64
) -> None:
    """Mark entity ``e`` optimised (``v = 1``) or not, updating the NCTR states."""
    xb = st[S_XB]
    dv = float(v - ei[e, E_OPT])
    if dv == 0.0:
        return
    ei[e, E_OPT] = v
    _tw_set(twv, twl, twc, xb + X_NCTR, t, twv[xb + X_NCTR] + dv)
    p = ei[e, E_PATH]
    if p > 0:
        k = xb + X_NCTR + p
        _tw_set(twv, twl, twc, k, t, twv[k] + dv)


@_inline
def _leave_bed(
    e: int,
    t: float,
    end: float,
    ef: F64,
    ei: I64,
    rs: I64,
    racc: F64,
    twv: F64,
    twl: F64,
    twc: F64,
    wk: I64,
    st: I64,
    fl: I64,
    ht: F64,
    hs: I64,
    hp: I64,
    now: F64,
    readm_p: F64,
    window: float,
    rng: np.random.Generator,
) -> None:
    """Entity ``e`` leaves its G&A bed at ``t``; readmission drawn (stream ``readmission``)."""
    _set_optimised(e, t, 0, ei, twv, twl, twc, st)
    _release(R_WARD_BEDS, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)
    if rng.random() < readm_p[ei[e, E_PATH]]:
        _push(ht, hs, hp, st, now, t + window * rng.random(), end, A_READMIT, -1)


@_inline
def _record_ed_departure(e: int, t: float, ef: F64, ei: I64, acc: F64) -> None:
    """Record a completed ED attendance (4 h, 12 h, all types) and stop its clock."""
    ted = ef[e, E_TED]
    ef[e, E_TED] = np.nan
    if ei[e, E_CENSUS] != 0:
        return
    d = _day(ted)
    dur = t - ted
    ok4 = 1.0 if dur <= FOUR_HOURS else 0.0
    acc[K_ED_N4, d] += 1.0
    acc[K_ED_OK4, d] += ok4
    acc[K_ALL_N4, d] += 1.0
    acc[K_ALL_OK4, d] += ok4
    acc[K_ED_N12, d] += 1.0
    if dur > TWELVE_HOURS:
        acc[K_ED_BR12, d] += 1.0


@_inline
def _record_fd_departure(e: int, t: float, ef: F64, ei: I64, acc: F64) -> None:
    """Record a completed UTC / SDEC attendance (all-types 4 h) and stop its clock."""
    tfd = ef[e, E_TFD]
    ef[e, E_TFD] = np.nan
    if ei[e, E_CENSUS] != 0:
        return
    d = _day(tfd)
    acc[K_ALL_N4, d] += 1.0
    if t - tfd <= FOUR_HOURS:
        acc[K_ALL_OK4, d] += 1.0


# ===============================================================================================
# the core
# ===============================================================================================


@_jit
def _simulate(
    ipar: I64,
    fpar: F64,
    capacity: I64,
    esc_beds: I64,
    dist_code: I64,
    dist_p1: F64,
    dist_p2: F64,
    p111: F64,
    pamb: F64,
    pfd: F64,
    putc: F64,
    psdec: F64,
    ped: F64,
    ppath: F64,
    losm: F64,
    sdec_open: I64,
    p0_hazard: F64,
    p1_rel: I64,
    p3_rel: I64,
    readm_p: F64,
    cen_los: F64,
    cen_path: I64,
    cen_delayed: I64,
    arr_t: F64,
    arr_off: I64,
    qsvc: F64,
    qsvc_off: I64,
    rngs: Rngs,
) -> tuple[F64, F64, F64, F64, F64, I64, int]:
    """Run one replication; returns the raw accumulators (see :func:`run_replication`)."""
    n_hours = ipar[0]
    total_days = ipar[1]
    n_res = ipar[2]
    has_patience = ipar[3]
    cen_ed = ipar[4]
    cen_p2 = ipar[5]
    work_size = ipar[6]
    ent_cap = ipar[7]
    heap_cap = ipar[8]
    heap_margin = ipar[9]
    end = fpar[0]
    esc_trigger = fpar[1]
    esc_close = fpar[2]
    ho_target = fpar[3]
    window = fpar[4]

    n_streams = arr_off.shape[0] - 1
    p1q = n_res  # pseudo-resources: P1 / P3 token queues
    p3q = n_res + 1
    nrp = n_res + 2
    xb = 3 * nrp
    n_tw = xb + N_X

    # state
    # Owners (``*_own``) hold the memory; the hot path uses borrowed views (see _borrow).
    p111 = _borrow(p111)
    pamb = _borrow(pamb)
    pfd = _borrow(pfd)
    ppath = _borrow(ppath)
    st_own = np.zeros(N_S, dtype=np.int64)
    st = _borrow(st_own)
    st[S_XB] = xb
    st[S_NRES] = n_res
    rs_own = np.zeros((nrp, 5), dtype=np.int64)
    rs = _borrow(rs_own)
    for r in range(nrp):
        rs[r, RS_QH] = -1
        rs[r, RS_QT] = -1
    ef_own = np.full((ent_cap, N_EF), np.nan)
    ei_own = np.zeros((ent_cap, N_EI), dtype=np.int64)
    fl_own = np.empty(ent_cap, dtype=np.int64)
    ef = _borrow(ef_own)
    ei = _borrow(ei_own)
    fl = _borrow(fl_own)
    for i in range(ent_cap):
        fl[i] = ent_cap - 1 - i
    st[S_NFREE] = ent_cap
    ht_own = np.empty((2, heap_cap), dtype=np.float64)
    hs_own = np.empty((2, heap_cap), dtype=np.int64)
    hp_own = np.empty((2, heap_cap), dtype=np.int64)
    now_own = np.zeros(1)
    now = _borrow(now_own)
    ht = _borrow(ht_own)
    hs = _borrow(hs_own)
    hp = _borrow(hp_own)
    wk_own = np.zeros((work_size, 2), dtype=np.int64)
    wk = _borrow(wk_own)
    twv_own = np.zeros(n_tw)
    twl_own = np.zeros(n_tw)
    twa_own = np.zeros((n_tw, total_days))
    twv = _borrow(twv_own)
    twl = _borrow(twl_own)
    twa = _borrow(twa_own)
    twc_own = np.zeros(n_tw)
    twc = _borrow(twc_own)
    acc_own = np.zeros((N_K, total_days))
    acc = _borrow(acc_own)
    racc_own = np.zeros((nrp, 4, total_days))
    racc = _borrow(racc_own)
    snap = np.zeros((nrp, total_days + 1))
    tta_v = np.empty(4096, dtype=np.float64)
    tta_d = np.empty(4096, dtype=np.int64)
    ptr = arr_off[:-1].copy()
    qptr = np.zeros(max(1, qsvc_off.shape[0] - 1), dtype=np.int64)
    events = 0

    rng_route = _borrow(rngs[G_ROUTING])
    rng_amb = _borrow(rngs[G_AMBULANCE])
    rng_ed = _borrow(rngs[G_ED])
    rng_fd = _borrow(rngs[G_FRONT_DOOR])
    rng_dis = _borrow(rngs[G_DISCHARGE])
    rng_readm = _borrow(rngs[G_READMISSION])
    rng_svc = _borrow(rngs[G_111_SERVICE])
    rng_pat = _borrow(rngs[G_111_PATIENCE])
    rng_los = _borrow(rngs[G_LOS])
    rng_path = _borrow(rngs[G_PATHWAY])

    # --- start state (t = 0): hour-0 capacities, census holds --------------------------------
    t = 0.0
    for r in range(n_res):
        rs[r, RS_CAP] = capacity[r, 0]
        _tw_set(twv, twl, twc, 3 * r + 2, 0.0, float(capacity[r, 0]))
    st[S_CORE] = capacity[R_WARD_BEDS, 0]
    rng_c = rngs[G_CENSUS]
    n_cb = cen_los.shape[0]
    resid = np.zeros(n_cb)
    for i in range(n_cb):
        if cen_delayed[i] == 0:
            row = D_LOS_P0 + cen_path[i]
            for _k in range(100):
                x = _sample(dist_code[row], dist_p1[row], dist_p2[row], rng_c)
                if x > cen_los[i]:
                    resid[i] = x - cen_los[i]
                    break
    p2los = np.zeros(cen_p2)
    for i in range(cen_p2):
        p2los[i] = _sample(dist_code[D_P2_LOS], dist_p1[D_P2_LOS], dist_p2[D_P2_LOS], rng_c)
    # census placement (docs § 5.8): (1) G&A beds, (2) ED occupants, (3) P2 occupants,
    # (4) optimisations at t = 0 in list order (queued as work, run before hour 0's boundary)
    cen_ent = np.empty(n_cb, dtype=np.int64)
    for i in range(n_cb):
        e = _alloc(ef, ei, st, fl)
        cen_ent[i] = e
        ei[e, E_CENSUS] = 1
        ei[e, E_PATH] = cen_path[i]
        ef[e, E_T0] = -cen_los[i]
        rs[R_WARD_BEDS, RS_BUSY] += 1
    for _ in range(cen_ed):
        e = _alloc(ef, ei, st, fl)
        ei[e, E_CENSUS] = 1
        ef[e, E_TED] = 0.0
        rs[R_ED_CUBICLES, RS_BUSY] += 1
        _work(wk, st, A_CUBICLE_START, e)
    for i in range(cen_p2):
        e = _alloc(ef, ei, st, fl)
        ei[e, E_CENSUS] = 1
        rs[R_P2_BEDS, RS_BUSY] += 1
        _push(ht, hs, hp, st, now, p2los[i], end, A_P2_END, e)
    for i in range(n_cb):
        e = cen_ent[i]
        if cen_delayed[i] == 1 or resid[i] == 0.0:
            _work(wk, st, A_OPTIMISED, e)
        else:
            _push(ht, hs, hp, st, now, resid[i], end, A_OPTIMISED, e)
    for r in (R_P2_BEDS, R_WARD_BEDS, R_ED_CUBICLES):
        _tw_set(twv, twl, twc, 3 * r, 0.0, float(rs[r, RS_BUSY]))
    _ward_derived(0.0, rs, twv, twl, twc, st)
    for s in range(n_streams):
        if arr_off[s + 1] > arr_off[s]:
            _push(ht, hs, hp, st, now, arr_t[arr_off[s]], end, A_ARRIVAL, s)

    next_hour = 0
    inf = np.inf
    while True:
        # room for this step's pushes and allocations
        if max(st[S_HN], st[S_HN_FAR]) + heap_margin > ht.shape[1]:
            m = 2 * ht.shape[1]
            ht2 = np.empty((2, m), dtype=np.float64)
            hs2 = np.empty((2, m), dtype=np.int64)
            hp2 = np.empty((2, m), dtype=np.int64)
            n = ht.shape[1]
            ht2[:, :n] = ht
            hs2[:, :n] = hs
            hp2[:, :n] = hp
            ht_own, hs_own, hp_own = ht2, hs2, hp2
            ht = _borrow(ht_own)
            hs = _borrow(hs_own)
            hp = _borrow(hp_own)
        if st[S_NFREE] < 8:
            old = ef.shape[0]
            ef2 = np.full((2 * old, N_EF), np.nan)
            ef2[:old] = ef
            ei2 = np.zeros((2 * old, N_EI), dtype=np.int64)
            ei2[:old] = ei
            fl2 = np.empty(2 * old, dtype=np.int64)
            nf = st[S_NFREE]
            fl2[:nf] = fl[:nf]
            for i in range(2 * old - 1, old - 1, -1):
                fl2[nf] = i
                nf += 1
            st[S_NFREE] = nf
            ef_own, ei_own, fl_own = ef2, ei2, fl2
            ef = _borrow(ef_own)
            ei = _borrow(ei_own)
            fl = _borrow(fl_own)

        if st[S_WN] > 0:
            j = st[S_WH]
            code = wk[j, 0]
            e = wk[j, 1]
            st[S_WH] = (j + 1) % work_size
            st[S_WN] -= 1
        else:
            row = 0 if st[S_HN] > 0 else -1
            if st[S_HN_FAR] > 0 and (
                row < 0 or ht[1, 0] < ht[0, 0] or (ht[1, 0] == ht[0, 0] and hs[1, 0] < hs[0, 0])
            ):
                row = 1
            tnext = ht[row, 0] if row >= 0 else inf
            if next_hour < n_hours and next_hour <= tnext:
                # ---- hour boundary h (docs § 4: capacities, escalation, tokens, starts) ----
                h = next_hour
                next_hour += 1
                t = float(h)
                now[0] = t
                if h == 0:
                    # the census (placed, its t = 0 joins and moves done) is day 0's start
                    # state, not arrivals or departures (docs § 5.8); only census work has run
                    # before this boundary
                    for r in range(n_res):
                        racc[r, RA_ARR, 0] = 0.0
                        racc[r, RA_DEP, 0] = 0.0
                        snap[r, 0] = rs[r, RS_BUSY] + rs[r, RS_QN]
                elif h % 24 == 0:
                    _tw_flush(twv, twl, twc, twa, h // 24 - 1, t)
                    st[S_DAY] = h // 24
                    for r in range(n_res):
                        snap[r, h // 24] = rs[r, RS_BUSY] + rs[r, RS_QN]
                for r in range(n_res):
                    c = capacity[r, h]
                    if r == R_WARD_BEDS:
                        continue
                    if c != rs[r, RS_CAP]:
                        rs[r, RS_CAP] = c
                        _tw_set(twv, twl, twc, 3 * r + 2, t, float(c))
                core = capacity[R_WARD_BEDS, h]
                st[S_CORE] = core
                occ = rs[R_WARD_BEDS, RS_BUSY]
                if core > 0:
                    ratio = occ / core
                elif occ > 0:
                    ratio = inf
                else:
                    ratio = 0.0
                if st[S_ESC] == 0 and ratio >= esc_trigger:
                    st[S_ESC] = 1
                elif st[S_ESC] == 1 and ratio < esc_close and occ <= core:
                    st[S_ESC] = 0
                av = core + (esc_beds[h] if st[S_ESC] == 1 else 0)
                if av != rs[R_WARD_BEDS, RS_CAP]:
                    rs[R_WARD_BEDS, RS_CAP] = av
                    _tw_set(twv, twl, twc, 3 * R_WARD_BEDS + 2, t, float(av))
                _ward_derived(t, rs, twv, twl, twc, st)
                if h % 24 == 0:
                    st[S_POOL1] = 0
                    st[S_POOL3] = 0
                st[S_POOL1] += p1_rel[h]
                st[S_POOL3] += p3_rel[h]
                for which in range(2):
                    q = p1q if which == 0 else p3q
                    slot = S_POOL1 if which == 0 else S_POOL3
                    while st[slot] > 0 and rs[q, RS_QN] > 0:
                        e = _dequeue_raw(q, ei, rs)
                        rs[q, RS_QN] -= 1
                        _tw_set(twv, twl, twc, 3 * q + 1, t, float(rs[q, RS_QN]))
                        st[slot] -= 1
                        _leave_bed(
                            e, t, end, ef, ei, rs, racc, twv, twl, twc, wk, st, fl, ht, hs, hp, now,
                            readm_p, window, rng_readm,
                        )  # fmt: skip
                        _free(e, ei, st, fl)
                for r in range(n_res):
                    if rs[r, RS_QN] > 0 and rs[r, RS_BUSY] < rs[r, RS_CAP]:
                        _try_start(r, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)
                continue
            if row < 0:
                break
            t = ht[row, 0]
            now[0] = t
            payload = hp[row, 0]
            _pop(ht, hs, hp, st, row)
            code = payload % _PACK_CODE
            e = (payload // _PACK_CODE) % (1 << 32) - 1
            if code == A_ABANDON and (ei[e, E_GEN] & _GEN_MASK) != payload // _PACK_GEN:
                continue  # the call was answered and its entity recycled

        events += 1
        d = st[S_DAY]
        # The future event, releases and join of this event are deferred to the end of its
        # handler, where each has one inlined call site (a call per event with a dozen array
        # arguments was a large share of the run time). Order is kept: each handler schedules at
        # most one event after its other pushes (ARRIVAL's next arrival stays immediate, before
        # its abandonment push), releases come before the join, and neither touches the event
        # heap or draws random numbers (starts go to the work ring).
        rel1 = -1
        rel2 = -1
        jent = -1
        jres = -1
        jcode = 0
        pt = 0.0  # the handler's one future event (code pcode ≥ 0, entity pent) is pushed last
        pcode = -1
        pent = -1

        # ---- dispatch -------------------------------------------------------------------------
        if code == A_ARRIVAL:
            s = e
            ptr[s] += 1
            if ptr[s] < arr_off[s + 1]:
                _push(ht, hs, hp, st, now, arr_t[ptr[s]], end, A_ARRIVAL, s)
            e = _alloc(ef, ei, st, fl)
            if s == 0:  # 111 call
                ef[e, E_T0] = t
                r = R_NHS111_HANDLERS
                at_once = rs[r, RS_BUSY] < rs[r, RS_CAP] and rs[r, RS_QN] == 0
                patience = inf
                if has_patience == 1:
                    patience = _sample(
                        dist_code[D_111_PATIENCE],
                        dist_p1[D_111_PATIENCE],
                        dist_p2[D_111_PATIENCE],
                        rng_pat,
                    )
                jent, jres, jcode = e, r, A_CALL_START
                if not at_once and patience < inf:
                    payload = (
                        A_ABANDON + _PACK_CODE * (e + 1) + _PACK_GEN * (ei[e, E_GEN] & _GEN_MASK)
                    )
                    _push_payload(ht, hs, hp, st, now, t + patience, end, payload)
            elif s == 1:  # 999 incident
                _work(wk, st, A_INCIDENT, e)
            elif s == 2:  # walk-in
                ei[e, E_SRC] = 0
                _work(wk, st, A_FRONT_DOOR, e)
            elif s == 3:  # direct referral
                ei[e, E_SRC] = 3
                _work(wk, st, A_FRONT_DOOR, e)
            elif s == 4:  # direct admission: bed request holding nothing
                ei[e, E_FROM] = FROM_DIRECT
                jent, jres, jcode = e, R_WARD_BEDS, A_BED_START
            else:  # generic queue
                qi = s - N_BUILTIN_STREAMS
                ei[e, E_AUX] = qi
                r = N_BUILTIN_RESOURCES + qi
                jent, jres, jcode = e, r, A_Q_START

        elif code == A_TREAT_END:
            rel1 = R_ED_CLINICIANS
            if rng_route.random() < ped[d]:
                ef[e, E_TDEC] = t
                ei[e, E_FROM] = FROM_ED
                jent, jres, jcode = e, R_WARD_BEDS, A_BED_START
            else:
                _record_ed_departure(e, t, ef, ei, acc)
                rel2 = R_ED_CUBICLES
                _free(e, ei, st, fl)

        elif code == A_ASSESS_START:
            if ei[e, E_CENSUS] == 0:
                tta = t - ef[e, E_TED]
                de = _day(ef[e, E_TED])
                acc[K_TTA_SUM, de] += tta
                acc[K_TTA_N, de] += 1.0
                n = st[S_NTTA]
                if n >= tta_v.shape[0]:
                    tv2 = np.empty(2 * n, dtype=np.float64)
                    td2 = np.empty(2 * n, dtype=np.int64)
                    tv2[:n] = tta_v[:n]
                    td2[:n] = tta_d[:n]
                    tta_v, tta_d = tv2, td2
                tta_v[n] = tta
                tta_d[n] = de
                st[S_NTTA] = n + 1
            dur = _sample(
                dist_code[D_ED_ASSESSMENT],
                dist_p1[D_ED_ASSESSMENT],
                dist_p2[D_ED_ASSESSMENT],
                rng_ed,
            )
            pt, pcode, pent = t + dur, A_ASSESS_END, e

        elif code == A_ASSESS_END:
            rel1 = R_ED_TRIAGE
            if ei[e, E_AMB] == AMB_CONVEY:  # already in a cubicle since the handover
                jent, jres, jcode = e, R_ED_CLINICIANS, A_TREAT_START
            else:
                jent, jres, jcode = e, R_ED_CUBICLES, A_CUBICLE_START

        elif code == A_CUBICLE_START:
            jent, jres, jcode = e, R_ED_CLINICIANS, A_TREAT_START

        elif code == A_TREAT_START:
            dur = _sample(
                dist_code[D_ED_TREATMENT], dist_p1[D_ED_TREATMENT], dist_p2[D_ED_TREATMENT], rng_ed
            )
            pt, pcode, pent = t + dur, A_TREAT_END, e

        elif code == A_CALL_START:
            ei[e, E_STATE] = CALL_STARTED
            acc[K_ANSW, _day(ef[e, E_T0])] += 1.0
            dur = _sample(
                dist_code[D_111_SERVICE],
                dist_p1[D_111_SERVICE],
                dist_p2[D_111_SERVICE],
                rng_svc,
            )
            pt, pcode, pent = t + dur, A_CALL_END, e

        elif code == A_CALL_END:
            rel1 = R_NHS111_HANDLERS
            k = _categorical(rng_route.random(), p111[d])
            acc[K_DISP0 + k, _day(ef[e, E_T0])] += 1.0
            if k <= 1:
                _free(e, ei, st, fl)
            elif k <= 3:
                ei[e, E_SRC] = 2 if k == 2 else 1  # nhs111_utc / nhs111_ed
                tr = _sample(
                    dist_code[D_111_TRAVEL], dist_p1[D_111_TRAVEL], dist_p2[D_111_TRAVEL], rng_fd
                )
                pt, pcode, pent = t + tr, A_FRONT_DOOR, e
            else:
                _work(wk, st, A_INCIDENT, e)

        elif code == A_ABANDON:
            if ei[e, E_STATE] == CALL_WAITING:
                ei[e, E_STATE] = CALL_ABANDONED
                r = R_NHS111_HANDLERS
                rs[r, RS_QN] -= 1
                _tw_set(twv, twl, twc, 3 * r + 1, t, float(rs[r, RS_QN]))
                racc[r, RA_DEP, d] += 1.0
                acc[K_ABAND, _day(ef[e, E_T0])] += 1.0
                # the entity stays in the list (lazy deletion) and is freed when reached

        elif code == A_FRONT_DOOR:
            k = _categorical(rng_route.random(), pfd[d, ei[e, E_SRC]])
            if k == 2 and sdec_open[int(t) % 24] == 0:
                k = 0
            if k == 0:
                ef[e, E_TED] = t
                jent, jres, jcode = e, R_ED_TRIAGE, A_ASSESS_START
            elif k == 1:
                ef[e, E_TFD] = t
                jent, jres, jcode = e, R_UTC_CLINICIANS, A_UTC_START
            else:
                ef[e, E_TFD] = t
                jent, jres, jcode = e, R_SDEC_CHAIRS, A_SDEC_START

        elif code == A_INCIDENT:
            ef[e, E_T0] = t
            k = _categorical(rng_route.random(), pamb[d])
            acc[K_INC, d] += 1.0
            if k == 0:
                _free(e, ei, st, fl)
            else:
                ei[e, E_AMB] = k
                if k == AMB_CONVEY:
                    acc[K_CONV, d] += 1.0
                r = R_AMBULANCE_VEHICLES
                jent, jres, jcode = e, r, A_DISPATCH

        elif code == A_DISPATCH:
            tr = _sample(
                dist_code[D_AMB_TO_SCENE], dist_p1[D_AMB_TO_SCENE], dist_p2[D_AMB_TO_SCENE], rng_amb
            )
            pt, pcode, pent = t + tr, A_AT_SCENE, e

        elif code == A_AT_SCENE:
            di = _day(ef[e, E_T0])
            acc[K_RESP_SUM, di] += t - ef[e, E_T0]
            acc[K_RESP_N, di] += 1.0
            dur = _sample(
                dist_code[D_AMB_ON_SCENE], dist_p1[D_AMB_ON_SCENE], dist_p2[D_AMB_ON_SCENE], rng_amb
            )
            pt, pcode, pent = t + dur, A_SCENE_END, e

        elif code == A_SCENE_END:
            if ei[e, E_AMB] == AMB_SEE_AND_TREAT:
                rel1 = R_AMBULANCE_VEHICLES
                _free(e, ei, st, fl)
            else:
                row = D_AMB_TO_HOSPITAL
                tr = _sample(dist_code[row], dist_p1[row], dist_p2[row], rng_amb)
                pt, pcode, pent = t + tr, A_HOSP_ARRIVE, e

        elif code == A_HOSP_ARRIVE:
            ef[e, E_THOSP] = t
            ef[e, E_TED] = t
            r = R_ED_CUBICLES
            jent, jres, jcode = e, r, A_HANDOVER_START

        elif code == A_HANDOVER_START:
            dur = _sample(
                dist_code[D_AMB_HANDOVER], dist_p1[D_AMB_HANDOVER], dist_p2[D_AMB_HANDOVER], rng_amb
            )
            pt, pcode, pent = t + dur, A_HANDOVER_END, e

        elif code == A_HANDOVER_END:
            th = ef[e, E_THOSP]
            ef[e, E_THOSP] = np.nan
            if ei[e, E_CENSUS] == 0:
                dh = _day(th)
                delay = t - th
                acc[K_HO_N30, dh] += 1.0
                acc[K_HO_N60, dh] += 1.0
                if delay > HANDOVER_30_HOURS:
                    acc[K_HO_30, dh] += 1.0
                if delay > HANDOVER_60_HOURS:
                    acc[K_HO_60, dh] += 1.0
                if delay > ho_target:
                    acc[K_LOST, dh] += delay - ho_target
            row = D_AMB_TURNAROUND
            tt = _sample(dist_code[row], dist_p1[row], dist_p2[row], rng_amb)
            pt, pcode, pent = t + tt, A_VEHICLE_FREE, -1
            jent, jres, jcode = e, R_ED_TRIAGE, A_ASSESS_START

        elif code == A_VEHICLE_FREE:
            rel1 = R_AMBULANCE_VEHICLES

        elif code == A_UTC_START:
            dur = _sample(
                dist_code[D_UTC_SERVICE], dist_p1[D_UTC_SERVICE], dist_p2[D_UTC_SERVICE], rng_fd
            )
            pt, pcode, pent = t + dur, A_UTC_END, e

        elif code == A_UTC_END:
            rel1 = R_UTC_CLINICIANS
            _record_fd_departure(e, t, ef, ei, acc)
            if rng_route.random() < putc[d]:
                ef[e, E_TED] = t
                jent, jres, jcode = e, R_ED_TRIAGE, A_ASSESS_START
            else:
                _free(e, ei, st, fl)

        elif code == A_SDEC_START:
            dur = _sample(
                dist_code[D_SDEC_SERVICE], dist_p1[D_SDEC_SERVICE], dist_p2[D_SDEC_SERVICE], rng_fd
            )
            pt, pcode, pent = t + dur, A_SDEC_END, e

        elif code == A_SDEC_END:
            if rng_route.random() < psdec[d]:
                ei[e, E_FROM] = FROM_SDEC
                jent, jres, jcode = e, R_WARD_BEDS, A_BED_START
            else:
                _record_fd_departure(e, t, ef, ei, acc)
                rel1 = R_SDEC_CHAIRS
                _free(e, ei, st, fl)

        elif code == A_BED_START:
            origin = ei[e, E_FROM]
            if origin == FROM_ED:
                tdec = ef[e, E_TDEC]
                ef[e, E_TDEC] = np.nan
                if ei[e, E_CENSUS] == 0:
                    de = _day(ef[e, E_TED])
                    wait = t - tdec
                    acc[K_CRTP_N, de] += 1.0
                    if wait > CRTP_HOURS:
                        acc[K_CRTP_OVER, de] += 1.0
                    if wait > 0.0:
                        acc[K_BOARDED, de] += 1.0
                _record_ed_departure(e, t, ef, ei, acc)
                rel1 = R_ED_CUBICLES
            elif origin == FROM_SDEC:
                _record_fd_departure(e, t, ef, ei, acc)
                rel1 = R_SDEC_CHAIRS
            ef[e, E_T0] = t
            p = _categorical(rng_path.random(), ppath[d])
            ei[e, E_PATH] = p
            row = D_LOS_P0 + p
            los = _sample(dist_code[row], dist_p1[row], dist_p2[row], rng_los) * losm[d, p]
            pt, pcode, pent = t + los, A_OPTIMISED, e

        elif code == A_OPTIMISED:
            _set_optimised(e, t, 1, ei, twv, twl, twc, st)
            p = ei[e, E_PATH]
            if p == 0:
                h = math.ceil(t)
                while h < n_hours:
                    hz = p0_hazard[h]
                    if hz > 0.0 and rng_dis.random() < hz:
                        break
                    h += 1
                if h < n_hours:
                    pt, pcode, pent = float(h), A_P0_DISCHARGE, e
            elif p == 2:
                jent, jres, jcode = e, R_P2_BEDS, A_P2_START
            else:
                q = p1q if p == 1 else p3q
                slot = S_POOL1 if p == 1 else S_POOL3
                if st[slot] > 0:
                    st[slot] -= 1
                    _leave_bed(
                        e, t, end, ef, ei, rs, racc, twv, twl, twc, wk, st, fl, ht, hs, hp, now,
                        readm_p, window, rng_readm,
                    )  # fmt: skip
                    _free(e, ei, st, fl)
                else:
                    _enqueue(e, q, t, ei, rs, twv, twl, twc)

        elif code == A_P0_DISCHARGE:
            _leave_bed(
                e, t, end, ef, ei, rs, racc, twv, twl, twc, wk, st, fl, ht, hs, hp, now,
                readm_p, window, rng_readm,
            )  # fmt: skip
            _free(e, ei, st, fl)

        elif code == A_P2_START:
            _leave_bed(
                e, t, end, ef, ei, rs, racc, twv, twl, twc, wk, st, fl, ht, hs, hp, now,
                readm_p, window, rng_readm,
            )  # fmt: skip
            dur = _sample(dist_code[D_P2_LOS], dist_p1[D_P2_LOS], dist_p2[D_P2_LOS], rng_dis)
            pt, pcode, pent = t + dur, A_P2_END, e

        elif code == A_P2_END:
            rel1 = R_P2_BEDS
            _free(e, ei, st, fl)

        elif code == A_READMIT:
            e = _alloc(ef, ei, st, fl)
            ei[e, E_SRC] = 0
            _work(wk, st, A_FRONT_DOOR, e)

        elif code == A_Q_START:
            qi = ei[e, E_AUX]
            dur = qsvc[qsvc_off[qi] + qptr[qi]]
            qptr[qi] += 1
            pt, pcode, pent = t + dur, A_Q_END, e

        elif code == A_Q_END:
            r = N_BUILTIN_RESOURCES + ei[e, E_AUX]
            rel1 = r
            _free(e, ei, st, fl)

        # ---- deferred push, releases and join (see above) -------------------------------------
        if pcode >= 0:
            _push_payload(ht, hs, hp, st, now, pt, end, pcode + _PACK_CODE * (pent + 1))
        if rel1 >= 0:
            _release_inline(rel1, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)
        if rel2 >= 0:
            _release_inline(rel2, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)
        if jres >= 0:
            _join_inline(jent, jres, jcode, t, ef, ei, rs, racc, twv, twl, twc, wk, st, fl)

    # ---- end of run: close integrals, final in-system, censoring ------------------------------
    _tw_flush(twv, twl, twc, twa, total_days - 1, end)
    for r in range(n_res):
        snap[r, total_days] = rs[r, RS_BUSY] + rs[r, RS_QN]
    for e in range(ef.shape[0]):
        if ei[e, E_LIVE] == 0 or ei[e, E_CENSUS] == 1:
            continue
        ted = ef[e, E_TED]
        if not np.isnan(ted):
            de = _day(ted)
            if end - ted > FOUR_HOURS:
                acc[K_ED_N4, de] += 1.0
                acc[K_ALL_N4, de] += 1.0
            if end - ted > TWELVE_HOURS:
                acc[K_ED_N12, de] += 1.0
                acc[K_ED_BR12, de] += 1.0
            tdec = ef[e, E_TDEC]
            if not np.isnan(tdec):
                if end - tdec > CRTP_HOURS:
                    acc[K_CRTP_N, de] += 1.0
                    acc[K_CRTP_OVER, de] += 1.0
                if end > tdec:  # still boarding: the bed wait is already > 0
                    acc[K_BOARDED, de] += 1.0
        tfd = ef[e, E_TFD]
        if not np.isnan(tfd) and end - tfd > FOUR_HOURS:
            acc[K_ALL_N4, _day(tfd)] += 1.0
        th = ef[e, E_THOSP]
        if not np.isnan(th):
            dh = _day(th)
            if end - th > HANDOVER_30_HOURS:
                acc[K_HO_N30, dh] += 1.0
                acc[K_HO_30, dh] += 1.0
            if end - th > HANDOVER_60_HOURS:
                acc[K_HO_N60, dh] += 1.0
                acc[K_HO_60, dh] += 1.0
    n = st[S_NTTA]
    # the owners stay alive (referenced) until here, so the borrowed views were valid
    keep = (
        st_own.size + rs_own.size + ef_own.size + ei_own.size + fl_own.size + ht_own.size
        + hs_own.size + hp_own.size + now_own.size + wk_own.size + twv_own.size
        + twl_own.size + twc_own.size
    )  # fmt: skip
    if keep < 0:
        raise RuntimeError("unreachable")
    return acc_own, racc_own, twa_own, snap, tta_v[:n].copy(), tta_d[:n].copy(), events


# ===============================================================================================
# Python side: inputs, KPI assembly
# ===============================================================================================


def _ratio(num: F64 | float, den: F64 | float, scale: float = 1.0) -> F64:
    """``scale × num ÷ den`` element-wise, NaN where ``den == 0``."""
    n = np.asarray(num, dtype=np.float64)
    dn = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(n, dn).shape, np.nan)
    np.divide(n, dn, out=out, where=dn != 0)
    return out * scale


def _p95(values: F64, days: I64, warmup: int, n_days: int) -> tuple[float, F64]:
    """95th percentile (``numpy.percentile``, linear) overall and per measured day."""
    mask = (days >= warmup) & (days < warmup + n_days)
    vals = values[mask]
    day = days[mask] - warmup
    daily = np.full(n_days, np.nan)
    if vals.size == 0:
        return math.nan, daily
    order = np.argsort(day, kind="stable")
    day_s, vals_s = day[order], vals[order]
    bounds = np.searchsorted(day_s, np.arange(n_days + 1))
    for d in range(n_days):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if hi > lo:
            daily[d] = float(np.percentile(vals_s[lo:hi], P95))
    return float(np.percentile(vals, P95)), daily


def _inputs(
    compiled: CompiledScenario, rngs: Sequence[np.random.Generator]
) -> tuple[I64, F64, F64, I64, F64, I64]:
    """Scalar parameters, pre-generated arrivals and pre-drawn generic-queue service times."""
    c = compiled
    n_res = c.n_resources
    times: list[F64] = []
    for s in range(c.n_streams):
        g = s if s < N_BUILTIN_STREAMS else N_BUILTIN_RNG_STREAMS + 2 * (s - N_BUILTIN_STREAMS)
        times.append(generate_arrivals(c.rate[s], rngs[g]))
    arr_off = np.zeros(c.n_streams + 1, dtype=np.int64)
    arr_off[1:] = np.cumsum([len(x) for x in times])
    arr_t = np.concatenate(times) if times else np.zeros(0)
    svc: list[F64] = []
    for i in range(c.n_queues):
        row = N_BUILTIN_DISTS + i
        n = len(times[N_BUILTIN_STREAMS + i])
        rng = rngs[N_BUILTIN_RNG_STREAMS + 2 * i + 1]
        code, p1, p2 = int(c.dist_code[row]), float(c.dist_p1[row]), float(c.dist_p2[row])
        svc.append(_sample_many(code, p1, p2, rng, n))
    q_off = np.zeros(c.n_queues + 1, dtype=np.int64)
    q_off[1:] = np.cumsum([len(x) for x in svc])
    qsvc = np.concatenate(svc) if svc else np.zeros(1)

    n_census = len(c.census_bed_los_so_far) + c.census_ed_occupants + c.census_p2_occupied
    max_cap = int(c.capacity.max(axis=1).sum()) if c.capacity.size else 0
    max_rel = int(c.p1_release.max(initial=0) + c.p3_release.max(initial=0))
    work = 1 << max(10, math.ceil(math.log2(2 * (max_cap + n_census + max_rel) + 1024)))
    ent = 1 << max(12, math.ceil(math.log2(2 * n_census + 4096)))
    margin = 64 + max_rel
    heap = 1 << max(12, math.ceil(math.log2(n_census + c.n_streams + 4 * margin + 1024)))
    ipar = np.array(
        [
            c.n_hours,
            c.total_days,
            n_res,
            c.has_patience,
            c.census_ed_occupants,
            c.census_p2_occupied,
            work,
            ent,
            heap,
            margin,
        ],
        dtype=np.int64,
    )
    fpar = np.array(
        [
            c.end_hour,
            c.escalation_trigger,
            c.escalation_close,
            c.handover_target_hours,
            c.readmission_window_hours,
        ],
        dtype=np.float64,
    )
    return ipar, fpar, arr_t.astype(np.float64), arr_off, qsvc.astype(np.float64), q_off


def run_replication(
    compiled: CompiledScenario, rngs: Sequence[np.random.Generator]
) -> ReplicationOutput:
    """Simulate one replication with the compiled engine (docs/simulation.md).

    Args:
        compiled: the compiled scenario (times in hours, capacities per hour).
        rngs: this replication's generators, one per random stream in
            ``compiled.rng_stream_names`` order (``replication_generators(...)[i]``); they are
            advanced by the run.

    Returns:
        Every KPI of ``kpi_names(compiled.queue_names)`` over the measured period and per
        measured day, and the number of events processed.

    Raises:
        ValueError: fewer generators than random streams.
    """
    c = compiled
    n_streams = N_BUILTIN_RNG_STREAMS + 2 * c.n_queues
    if len(rngs) < n_streams:
        raise ValueError(f"need {n_streams} generators, got {len(rngs)}")
    ipar, fpar, arr_t, arr_off, qsvc, q_off = _inputs(c, rngs)
    acc, racc, twa, snap, tta_v, tta_d, events = _simulate(
        ipar,
        fpar,
        np.ascontiguousarray(c.capacity, dtype=np.int64),
        np.ascontiguousarray(c.escalation_beds, dtype=np.int64),
        np.ascontiguousarray(c.dist_code, dtype=np.int64),
        np.ascontiguousarray(c.dist_p1, dtype=np.float64),
        np.ascontiguousarray(c.dist_p2, dtype=np.float64),
        np.ascontiguousarray(c.p_111_disposition, dtype=np.float64),
        np.ascontiguousarray(c.p_ambulance_disposition, dtype=np.float64),
        np.ascontiguousarray(c.p_front_door, dtype=np.float64),
        np.ascontiguousarray(c.p_utc_to_ed, dtype=np.float64),
        np.ascontiguousarray(c.p_sdec_admit, dtype=np.float64),
        np.ascontiguousarray(c.p_ed_admit, dtype=np.float64),
        np.ascontiguousarray(c.p_pathway, dtype=np.float64),
        np.ascontiguousarray(c.los_multiplier, dtype=np.float64),
        np.ascontiguousarray(c.sdec_open, dtype=np.int64),
        np.ascontiguousarray(c.p0_hazard, dtype=np.float64),
        np.ascontiguousarray(c.p1_release, dtype=np.int64),
        np.ascontiguousarray(c.p3_release, dtype=np.int64),
        np.ascontiguousarray(c.readmission_p, dtype=np.float64),
        np.ascontiguousarray(c.census_bed_los_so_far, dtype=np.float64),
        np.ascontiguousarray(c.census_bed_pathway, dtype=np.int64),
        np.ascontiguousarray(c.census_bed_delayed, dtype=np.int64),
        arr_t,
        arr_off,
        qsvc,
        q_off,
        tuple(rngs[:N_BUILTIN_RNG_STREAMS]),
    )
    overall, daily = _assemble(c, acc, racc, twa, snap, tta_v, tta_d)
    return ReplicationOutput(
        keys=tuple(kpi_names(c.queue_names)), overall=overall, daily=daily, events=int(events)
    )


def _assemble(
    c: CompiledScenario,
    acc: F64,
    racc: F64,
    twa: F64,
    snap: F64,
    tta_v: F64,
    tta_d: I64,
) -> tuple[F64, F64]:
    """KPI values (overall, per measured day) from the core's raw accumulators."""
    w, nd = c.warmup_days, c.days
    m = slice(w, w + nd)
    n_res = c.n_resources
    xb = 3 * (n_res + 2)
    period = HOURS_PER_DAY * nd

    def day(k: int) -> F64:
        return acc[k, m]

    def tw(k: int) -> F64:
        return twa[k, m]

    kpis: dict[str, tuple[float, F64]] = {}

    def ratio(key: str, num: F64, den: F64, scale: float = 1.0) -> None:
        kpis[key] = (float(_ratio(num.sum(), den.sum(), scale)), _ratio(num, den, scale))

    def total(key: str, vals: F64) -> None:
        kpis[key] = (float(vals.sum()), vals.astype(np.float64))

    def mean(key: str, integral: F64) -> None:
        kpis[key] = (float(integral.sum() / period), integral / HOURS_PER_DAY)

    ratio("ed.four_hour_pct", day(K_ED_OK4), day(K_ED_N4), 100.0)
    ratio("all_types.four_hour_pct", day(K_ALL_OK4), day(K_ALL_N4), 100.0)
    ratio("ed.twelve_hour_pct", day(K_ED_BR12), day(K_ED_N12), 100.0)
    ratio("ed.time_to_assessment_mean_hours", day(K_TTA_SUM), day(K_TTA_N))
    kpis["ed.time_to_assessment_p95_hours"] = _p95(tta_v, tta_d, w, nd)
    ratio("ed.crtp_over_1h_pct", day(K_CRTP_OVER), day(K_CRTP_N), 100.0)
    total("ed.boarded", day(K_BOARDED))
    ratio("ambulance.handover_over_30_pct", day(K_HO_30), day(K_HO_N30), 100.0)
    ratio("ambulance.handover_over_60_pct", day(K_HO_60), day(K_HO_N60), 100.0)
    total("ambulance.lost_hours", day(K_LOST))
    ratio("ambulance.response_mean_minutes", day(K_RESP_SUM), day(K_RESP_N), 60.0)
    ratio("ambulance.conveyance_pct", day(K_CONV), day(K_INC), 100.0)
    ratio("ward.occupancy_mean_pct", tw(3 * R_WARD_BEDS), tw(3 * R_WARD_BEDS + 2), 100.0)
    ratio("ward.hours_over_92_pct", tw(xb + X_OVER92), np.full(nd, HOURS_PER_DAY), 100.0)
    ratio("ward.hours_at_100_pct", tw(xb + X_AT100), np.full(nd, HOURS_PER_DAY), 100.0)
    mean("ward.escalation_beds_used_mean", tw(xb + X_ESC_USED))
    mean("ward.nctr_mean", tw(xb + X_NCTR))
    for p in (1, 2, 3):
        v = tw(xb + X_NCTR + p) / HOURS_PER_DAY
        kpis[f"ward.delayed_bed_days_p{p}"] = (float(v.sum()), v)
    mean("p1.queue_mean", tw(3 * n_res + 1))
    mean("p2.queue_mean", tw(3 * R_P2_BEDS + 1))
    mean("p3.queue_mean", tw(3 * (n_res + 1) + 1))
    ratio("nhs111.abandon_pct", day(K_ABAND), day(K_ABAND) + day(K_ANSW), 100.0)
    answered = acc[K_DISP0 : K_DISP0 + len(NHS111_DISPOSITIONS), m].sum(axis=0)
    for j, name in enumerate(NHS111_DISPOSITIONS):
        ratio(f"nhs111.disposition_{name}_pct", day(K_DISP0 + j), answered, 100.0)

    for r, name in enumerate(c.resource_names):
        ratio(f"{name}.utilisation", tw(3 * r), tw(3 * r + 2))
        ratio(f"{name}.mean_wait_hours", racc[r, RA_WSUM, m], racc[r, RA_WN, m])
        mean(f"{name}.mean_queue_length", tw(3 * r + 1))
        total(f"{name}.arrivals", racc[r, RA_ARR, m])
        total(f"{name}.departures", racc[r, RA_DEP, m])
        start = snap[r, w : w + nd]
        finish = snap[r, w + 1 : w + nd + 1]
        kpis[f"{name}.in_system_start"] = (float(snap[r, w]), start.astype(np.float64))
        kpis[f"{name}.in_system_end"] = (float(snap[r, w + nd]), finish.astype(np.float64))

    keys = kpi_names(c.queue_names)
    overall = np.array([kpis[k][0] for k in keys], dtype=np.float64)
    daily = np.stack([kpis[k][1] for k in keys], axis=1).astype(np.float64)
    return overall, daily


def compile_engine() -> float:
    """Compile (or load from the on-disk cache) the jitted core; returns seconds taken.

    Runs one tiny replication of a one-day single-queue scenario so every jitted function is
    compiled with the signatures real runs use.
    """
    from flowplan.sim.compiled import compile_scenario, replication_generators
    from flowplan.sim.examples import queue_scenario

    start = time.perf_counter()
    compiled = compile_scenario(queue_scenario(1.0, 0.5, 1), days=1, warmup_days=0)
    run_replication(compiled, replication_generators(1, 1, compiled.n_queues)[0])
    return time.perf_counter() - start
