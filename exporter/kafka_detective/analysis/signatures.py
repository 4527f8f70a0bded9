"""Incident signatures: which signals deviated from their baseline during an incident, how far, in what order.

A signature is the fingerprint `kafka-detective learn` stores beside a learned pattern
(patterns/learned/<name>.signature.json); the case file on /detective and `investigate` compare the current
incident's signature with those to list similar past incidents. The window compared is the growth phase the
diagnosis looked at (`growth_phase`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kafka_detective.analysis.model import Diagnosis
from kafka_detective.analysis.rootcause import LAG, derive_signals, mad, median
from kafka_detective.errors import UserError
from kafka_detective.signals.samples import GroupTopicSample

log = logging.getLogger(__name__)

SIGNATURE_SIGNALS = ("lag", "lag_seconds", "produce_rate", "consume_rate", "rebalances", "leader_changes",
                     "members", "under_replicated", "offline", "lost_messages", "cpu", "disk")
COUNT_SIGNALS = frozenset({"rebalances", "leader_changes", "lost_messages"})
DEVIATION_Z = 3.0
# Smallest deviation scale per signal, so a flat baseline (MAD 0) does not give infinite effect sizes.
_FLOOR = {"lag": 10.0, "lag_seconds": 5.0, "produce_rate": 0.1, "consume_rate": 0.1, "members": 0.5,
          "under_replicated": 0.5, "offline": 0.5, "cpu": 0.02, "disk": 0.01}


@dataclass
class SignalDeviation:
    signal: str
    direction: str          # up | down | none
    effect: float           # robust z (counts: Poisson-style z)
    baseline: float
    value: float
    ratio: float | None     # value / baseline when meaningful
    onset_offset: float | None   # seconds from the window start when it first deviated (may be negative)
    deviated: bool


@dataclass
class Signature:
    name: str
    cause: str
    cluster: str
    consumergroup: str
    topic: str
    start: float
    end: float
    notes: str = ""
    signals: list[SignalDeviation] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def vector(self) -> dict[str, float]:
        return {s.signal: math.tanh(s.effect / 5.0) if s.deviated else 0.0 for s in self.signals}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Signature:
        sig = Signature(**{k: v for k, v in d.items() if k not in ("signals",)})
        sig.signals = [SignalDeviation(**s) for s in d.get("signals", [])]
        return sig

    def describe(self) -> str:
        parts = []
        for name in self.order:
            s = next(x for x in self.signals if x.signal == name)
            r = f" x{s.ratio:.2f}" if s.ratio is not None and s.signal not in COUNT_SIGNALS else ""
            parts.append(f"{s.signal} {s.direction}{r}")
        return ", then ".join(parts) if parts else "no signal deviated beyond the lag itself"


def _series(history: Sequence[GroupTopicSample]) -> tuple[list[float], dict[str, Sequence[float | None]]]:
    sig = derive_signals(history)
    return sig.t, {
        "lag": sig.lag, "lag_seconds": sig.lag_seconds, "produce_rate": sig.produce_rate,
        "consume_rate": sig.consume_rate, "rebalances": sig.rebalances, "leader_changes": sig.leader_changes,
        "members": sig.members, "under_replicated": sig.under_replicated, "offline": sig.offline,
        "lost_messages": sig.lost, "cpu": sig.cpu, "disk": sig.disk,
    }


def _quantile(values: Sequence[float], q: float) -> float:
    v = sorted(values)
    if not v:
        return math.nan
    pos = q * (len(v) - 1)
    i = int(pos)
    frac = pos - i
    return v[i] if i + 1 >= len(v) else v[i] * (1 - frac) + v[i + 1] * frac


def signature(history: Sequence[GroupTopicSample], start: float, end: float, *, name: str = "", cause: str = "",
              notes: str = "", baseline_seconds: float = 7200.0) -> Signature:
    """Deviation of every signal in [start, end] from the `baseline_seconds` before start."""
    if not history:
        raise UserError("no history to learn from")
    t, series = _series(history)
    base = [i for i, x in enumerate(t) if start - baseline_seconds <= x < start]
    post = [i for i, x in enumerate(t) if start <= x <= end]
    if len(post) < 2:
        raise UserError("the incident window holds fewer than 2 samples of the history")
    if len(base) < 3:
        raise UserError("fewer than 3 samples before the incident window: the history must start before it "
                        "(a baseline is needed)")
    s0 = history[0]
    out = Signature(name=name, cause=cause, cluster=s0.cluster, consumergroup=s0.group, topic=s0.topic,
                    start=start, end=end, notes=notes)
    for name_ in SIGNATURE_SIGNALS:
        values = series[name_]
        bv = [float(val) for i in base if (val := values[i]) is not None]
        pv = [float(val) for i in post if (val := values[i]) is not None]
        if len(bv) < 3 or len(pv) < 2:
            continue
        if name_ in COUNT_SIGNALS:
            expected = sum(bv) / len(bv) * len(pv)
            value = sum(pv)
            effect = (value - expected) / math.sqrt(expected + 1.0)
            baseline = expected
            ratio = None
            onset_thr = max(0.5, 2 * sum(bv) / len(bv))
            first = next((t[i] for i in post if (val := values[i]) is not None and val > onset_thr), None)
        else:
            b_med = median(bv)
            scale = max(mad(bv, b_med), 0.05 * abs(b_med), _FLOOR.get(name_, 1e-3))
            # the peak characterises a lag excursion, the median any other signal
            # other signals: the 20th or 80th percentile, whichever deviates more, so a burst that covers a
            # fifth of the window (a short produce spike followed by a long catch-up) still counts
            if name_ in ("lag", "lag_seconds"):
                value = max(pv)
            else:
                lo_q, hi_q = _quantile(pv, 0.2), _quantile(pv, 0.8)
                value = hi_q if abs(hi_q - b_med) >= abs(lo_q - b_med) else lo_q
            effect = (value - b_med) / scale
            baseline = b_med
            ratio = value / b_med if abs(b_med) > 1e-9 else None
            sgn = 1 if effect > 0 else -1
            lo = max(0, (post[0] - 10))
            first = None
            for i in range(lo, post[-1] + 1):
                v = values[i]
                if v is not None and sgn * (float(v) - b_med) > DEVIATION_Z * scale:
                    # require the deviation to persist for the next sample too (one glitch is not an onset)
                    nxt = values[i + 1] if i + 1 < len(values) else v
                    if nxt is not None and sgn * (float(nxt) - b_med) > DEVIATION_Z * scale:
                        first = t[i]
                        break
        deviated = abs(effect) >= DEVIATION_Z and (
            name_ in COUNT_SIGNALS or ratio is None or abs(math.log(max(ratio, 1e-9))) >= math.log(1.2)
            or name_ in ("members", "under_replicated", "offline"))
        if name_ in COUNT_SIGNALS and value < 1:
            deviated = False
        out.signals.append(SignalDeviation(
            signal=name_, direction=("up" if effect > 0 else "down") if deviated else "none",
            effect=round(effect, 3), baseline=round(baseline, 6), value=round(value, 6),
            ratio=None if ratio is None else round(ratio, 4),
            onset_offset=None if first is None else round(first - start, 1), deviated=deviated))
    dev = [s for s in out.signals if s.deviated]
    dev.sort(key=lambda s: (s.onset_offset if s.onset_offset is not None else math.inf, -abs(s.effect)))
    out.order = [s.signal for s in dev]
    return out


def similarity(a: Signature, b: Signature) -> float:
    """Cosine similarity of the signed, squashed effect sizes of the signals both know (0 when unrelated)."""
    va, vb = a.vector(), b.vector()
    keys = set(va) & set(vb)
    dot = sum(va[k] * vb[k] for k in keys)
    na = math.sqrt(sum(va[k] ** 2 for k in keys))
    nb = math.sqrt(sum(vb[k] ** 2 for k in keys))
    if na == 0 or nb == 0:
        return 0.0
    return max(0.0, dot / (na * nb))


def load_signatures(library_dir: str | Path) -> list[Signature]:
    out = []
    for path in sorted(Path(library_dir).glob("learned/*.signature.json")):
        try:
            out.append(Signature.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError) as error:
            # A broken file must not break an investigation or the case file; its owner still hears of it.
            log.warning("learned signature %s is unreadable, skipped: %s", path, error)
    return out


def similar_incidents(current: Signature, library_dir: str | Path, limit: int = 5, min_similarity: float = 0.5
                      ) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for sig in load_signatures(library_dir):
        s = similarity(current, sig)
        if s >= min_similarity:
            found.append({"name": sig.name, "cause": sig.cause, "similarity": round(s, 3), "start": sig.start,
                          "notes": sig.notes, "subject": f"{sig.consumergroup}/{sig.topic}"})
    found.sort(key=lambda d: -d["similarity"])
    return found[:limit]


def growth_phase(history: Sequence[GroupTopicSample], d: Diagnosis) -> tuple[float, float] | None:
    """The growth phase the diagnosis looked at, (onset, end): the onset to the lag peak, or to the end of the
    history when the peak is missing or within three steps of the onset. The window whose signature is compared
    with learned incidents (`investigate` and the case file); None without an onset."""
    if d.onset is None or not history:
        return None
    peak = next((e.timestamp for e in d.evidence if e.metric == LAG), None)
    step = (history[-1].timestamp - history[0].timestamp) / max(1, len(history) - 1)
    end = peak if peak is not None and peak >= d.onset + 3 * step else history[-1].timestamp
    return d.onset, end
