"""PNG plots of one subject's history for `kafka-detective investigate` (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from kafka_detective.analysis.model import Diagnosis
from kafka_detective.analysis.rootcause import derive_signals, median_filter
from kafka_detective.signals.samples import GroupTopicSample


def _setup():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    return plt, mdates


def _times(ts: Sequence[float]) -> list[datetime]:
    return [datetime.fromtimestamp(t, tz=UTC) for t in ts]


def _finish(plt, mdates, fig, ax, onset: float | None, title: str, ylabel: str, path: Path,
            window: tuple[float, float] | None = None) -> Path:
    if window is not None:
        ax.axvspan(datetime.fromtimestamp(window[0], tz=UTC), datetime.fromtimestamp(window[1], tz=UTC),
                   color="tab:orange", alpha=0.08, label="post-onset window")
    if onset is not None:
        ax.axvline(datetime.fromtimestamp(onset, tz=UTC), color="tab:red", linestyle="--", linewidth=1.5,
                   label="onset " + datetime.fromtimestamp(onset, tz=UTC).strftime("%H:%M:%S UTC"))
    ax.set_title(title, fontsize=12)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("time (UTC)")
    ax.grid(True, alpha=0.3)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.legend(loc="best", fontsize=9, framealpha=0.85)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_history(history: Sequence[GroupTopicSample], diagnosis: Diagnosis | None, out_dir: str | Path
                 ) -> dict[str, Path]:
    """Write lag.png, lag_seconds.png, rates.png, rebalances.png (and cpu.png when known) into out_dir."""
    plt, mdates = _setup()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sig = derive_signals(history)
    x = _times(sig.t)
    onset = diagnosis.onset if diagnosis else None
    subject = f"{history[0].group} / {history[0].topic}"
    paths: dict[str, Path] = {}

    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(x, sig.lag, color="tab:blue", linewidth=1.6, label="lag (messages)")
    ax.set_ylim(bottom=0)
    paths["lag"] = _finish(plt, mdates, fig, ax, onset, f"Consumer lag: {subject}", "messages",
                           out / "lag.png")

    if any(v is not None for v in sig.lag_seconds):
        fig, ax = plt.subplots(figsize=(10, 3.6))
        ax.plot(x, [v if v is not None else float("nan") for v in sig.lag_seconds], color="tab:purple",
                linewidth=1.6, label="max lag seconds (age of oldest unconsumed message)")
        ret = next((r for r in reversed(sig.retention) if r), None) if sig.retention else None
        top = max((v for v in sig.lag_seconds if v is not None), default=0)
        if ret and ret < 3 * max(top, 1):
            ax.axhline(ret, color="black", linestyle=":", label=f"retention ({ret:.0f}s)")
        ax.set_ylim(bottom=0)
        paths["lag_seconds"] = _finish(plt, mdates, fig, ax, onset, f"Lag in seconds: {subject}", "seconds",
                                       out / "lag_seconds.png")

    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(x, sig.produce_rate, color="tab:green", alpha=0.2, linewidth=0.8)
    ax.plot(x, sig.consume_rate, color="tab:orange", alpha=0.2, linewidth=0.8)
    ax.plot(x, median_filter(sig.produce_rate, 5), color="tab:green", linewidth=1.8,
            label="produce rate (msg/s, median of 5)")
    ax.plot(x, median_filter(sig.consume_rate, 5), color="tab:orange", linewidth=1.8,
            label="consume rate (msg/s, median of 5)")
    ax.set_ylim(bottom=0)
    paths["rates"] = _finish(plt, mdates, fig, ax, onset, f"Produce vs consume rate: {subject}",
                             "messages / second", out / "rates.png")

    fig, ax = plt.subplots(figsize=(10, 3.6))
    width = (sig.t[1] - sig.t[0]) / 86400 * 0.8 if len(sig.t) > 1 else 0.0005
    ax.bar(x, sig.rebalances, width=width, color="tab:red", alpha=0.8, label="rebalances per step")
    if any(sig.leader_changes):
        ax.bar(x, sig.leader_changes, width=width, bottom=sig.rebalances, color="tab:brown", alpha=0.8,
               label="leader changes per step")
    ax2 = ax.twinx()
    ax2.step(x, sig.members, where="post", color="tab:gray", linewidth=1.2, label="members")
    ax2.set_ylabel("members")
    ax2.set_ylim(bottom=0, top=max(max(sig.members, default=1) * 1.3, 1))
    ax2.legend(loc="upper right", fontsize=9)
    ax.set_ylim(bottom=0, top=max(1.0, max((a + b for a, b in zip(sig.rebalances, sig.leader_changes,
                                                                    strict=True)), default=1)) * 1.3)
    paths["rebalances"] = _finish(plt, mdates, fig, ax, onset, f"Rebalances, leader changes, members: {subject}",
                                  "events per step", out / "rebalances.png")

    if any(v is not None for v in sig.cpu):
        fig, ax = plt.subplots(figsize=(10, 3.6))
        ax.plot(x, [v * 100 if v is not None else float("nan") for v in sig.cpu], color="tab:red",
                linewidth=1.6, label="consumer CPU (%)")
        ax.axhline(80, color="black", linestyle=":", label="80 %")
        ax.set_ylim(0, 105)
        paths["cpu"] = _finish(plt, mdates, fig, ax, onset, f"Consumer CPU: {subject}", "%", out / "cpu.png")
    return paths
