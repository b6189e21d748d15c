"""The report's figures: one pure function per figure, data frames in, a PNG path out (a
`*_figure` function under a plot gives the figure itself, for a test to inspect).

Lines and markers that stand for a name (a detector, a decoding, a group) differ in marker and
line style as well as colour, so a figure still reads printed in grey or without colour vision.

No pyplot: each figure is a `matplotlib.figure.Figure`, which saves through the Agg canvas, so
these functions touch no global plotting state and matplotlib is imported only when one runs.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import fmt

DPI = 110
PANEL = (4.2, 3.3)  # inches per small-multiple panel
MAX_SIZE_PANELS = 4  # above this many detectors the size plot shows the best one + faint lines
ROC_FLOOR = 1e-3  # FPR axis floor when the number of human test texts is unknown
OVERLAP_FLOOR = 1e-4  # where documents with zero overlap are drawn on the log axis
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
HATCHES = ("", "//", "..", "xx", "\\\\", "++")
MARKS_PER_LINE = 0.09  # spacing of the markers along a dense line (ROC, CDF), as a share of the axes' diagonal


def _figure(n_panels: int, ncols: int = 3, panel: tuple[float, float] = PANEL,
            sharey: bool = True) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _palette(names: Iterable[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def _styles(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per name a colour, a marker and a line style (keyword arguments of `ax.plot`). The line
    style steps on once per lap of the markers, so the first 32 names get distinct pairs."""
    names = list(names)
    colors = _palette(names)
    return {name: {"color": colors[name], "marker": MARKERS[i % len(MARKERS)],
                   "linestyle": LINESTYLES[(i + i // len(MARKERS)) % len(LINESTYLES)]}
            for i, name in enumerate(names)}


def _legend_outside(fig: Any, axes: list[Any]) -> None:
    """One legend for all panels (a label missing from the first panel still appears)."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize=8)


def _log_axis_at(ax: Any, values: Iterable[float], label: Callable[[float], str], base: float = 10,
                 pad: float = 1.3) -> None:
    """A log x axis with ticks exactly at `values`, labelled by `label(value)`."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    vals = sorted({float(v) for v in values})
    ax.set_xscale("log", base=base)
    ax.xaxis.set_major_locator(FixedLocator(vals))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: label(v)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(vals[0] / pad, vals[-1] * pad)


def _ordered(df: pd.DataFrame, name: str, size: str) -> list[str]:
    """Names in `df[name]` ordered by their size column, then by name."""
    pairs = df[[name, size]].drop_duplicates().sort_values([size, name])
    return list(dict.fromkeys(pairs[name]))


def _tpr_err(rows: pd.DataFrame) -> np.ndarray:
    """(2, n) distances from each TPR down to tpr_lo and up to tpr_hi (0 where unknown)."""
    return np.vstack([(rows.tpr - rows.tpr_lo).clip(lower=0).fillna(0),
                      (rows.tpr_hi - rows.tpr).clip(lower=0).fillna(0)])


def _tpr_line(ax: Any, rows: pd.DataFrame, nudge: float, style: dict[str, Any], label: str) -> None:
    rows = rows.sort_values("params")
    if rows.empty:
        return
    ax.errorbar(rows.params * nudge, rows.tpr, yerr=_tpr_err(rows), ms=4, capsize=3, lw=1.6, label=label, **style)


def plot_detection_vs_size(detection: pd.DataFrame, path: str | Path,
                           target_fpr: float | None = None,
                           max_panels: int = MAX_SIZE_PANELS) -> Path:
    """TPR at the target FPR (95% CI as error bars) against model parameters (log x), one line
    per decoding, from detection.csv.

    Up to `max_panels` detectors: one panel per detector. More detectors: one panel where each
    decoding's bold line is the best detector at each model (highest TPR, named at the point)
    and every detector is a faint line of the decoding's colour. Decodings are nudged sideways
    so their error bars do not hide each other. Rows without a parameter count are left out.
    """
    detection = detection[detection.params.notna() & (detection.params > 0)]
    if detection.empty:
        raise ValueError("detection.csv has no row with a parameter count to plot against")
    decodings = sorted(detection.decoding.unique())
    detectors = sorted(detection.detector.unique())
    styles = _styles(decodings)
    colors = {d: st["color"] for d, st in styles.items()}
    nudge = {d: 1 + 0.025 * (i - (len(decodings) - 1) / 2) for i, d in enumerate(decodings)}
    if len(detectors) <= max_panels:
        fig, axes = _figure(len(detectors), ncols=max_panels)
        for ax, det in zip(axes, detectors):
            rows = detection[detection.detector == det]
            for dec in decodings:
                _tpr_line(ax, rows[rows.decoding == dec], nudge[dec], styles[dec], dec)
            ax.set_title(det, fontsize=10)
    else:
        fig, axes = _figure(1, panel=(6.6, 4.4))
        ax = axes[0]
        for dec in decodings:
            rows = detection[detection.decoding == dec]
            for det in detectors:
                r = rows[rows.detector == det].sort_values("params")
                ax.plot(r.params * nudge[dec], r.tpr, color=colors[dec], ls=styles[dec]["linestyle"],
                        alpha=0.2, lw=1)
            best = rows.sort_values("tpr", ascending=False).drop_duplicates("model")
            _tpr_line(ax, best, nudge[dec], styles[dec], f"{dec} (best detector)")
            for r in best.itertuples():
                ax.annotate(r.detector, (r.params * nudge[dec], r.tpr), textcoords="offset points",
                            xytext=(5, -10), fontsize=7, color=colors[dec])
        ax.set_title("best detector per model (faint: every detector)", fontsize=10)
    for ax in axes:
        _log_axis_at(ax, detection.params, fmt.params)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("model parameters")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"TPR at FPR = {fmt.fpr(target_fpr)}" if target_fpr else "TPR at the target FPR")
    _legend_outside(fig, axes)
    return _save(fig, path)


def plot_detection_rates(detection: pd.DataFrame, path: str | Path, target_fpr: float | None = None) -> Path:
    """The detection table as a dot plot: one row per detector and corpus, top to bottom in the
    order of `detection`'s rows, the TPR at the target FPR as a dot and its 95% interval
    (tpr_lo, tpr_hi) as a horizontal bar; a marker per detector, a faint rule between corpora."""
    return _save(detection_rates_figure(detection, target_fpr), path)


def detection_rates_figure(detection: pd.DataFrame, target_fpr: float | None = None) -> Any:
    detectors = sorted(detection.detector.unique())
    styles = _styles(detectors)
    y = np.arange(len(detection))
    fig, (ax,) = _figure(1, panel=(6.6, 1.1 + 0.24 * len(detection)))
    for det in detectors:
        rows = (detection.detector == det).to_numpy()
        r = detection[rows]
        st = styles[det]
        ax.errorbar(r.tpr, y[rows], xerr=_tpr_err(r), ls="none", marker=st["marker"], color=st["color"], ms=5,
                    capsize=3, lw=1.4, label=det)
    corpora = detection.corpus.to_numpy()
    for at in np.flatnonzero(corpora[1:] != corpora[:-1]):
        ax.axhline(at + 0.5, color="grey", lw=0.6, alpha=0.5)
    ax.set_yticks(y, [f"{d} · {c}" for d, c in zip(detection.detector, detection.corpus)], fontsize=8)
    ax.set_ylim(len(detection) - 0.5, -0.5)  # first row on top, as in the table
    ax.set_xlim(-0.02, 1.02)
    at = f"FPR {fmt.fpr(target_fpr)}" if target_fpr else "the target FPR"
    ax.set_xlabel(f"detection rate (TPR) at {at}, with its 95% interval")
    ax.grid(alpha=0.3, axis="x")
    return fig


def plot_cross_size(cross: pd.DataFrame, path: str | Path) -> Path:
    """Cross-size transfer from cross_size.csv: AUROC of a detector trained on one corpus (rows)
    and tested on another (columns), both ordered by model size; one heat map per detector,
    each cell annotated with its AUROC ("–" where the pair was not run)."""
    detectors = sorted(cross.detector.unique())
    train = _ordered(cross, "train_corpus", "train_params")
    test = _ordered(cross, "test_corpus", "test_params")
    side = 1.6 + 0.7 * max(len(train), len(test))
    fig, axes = _figure(len(detectors), ncols=3, panel=(side + 1.2, side), sharey=False)
    lowest = np.nanmin(cross.auroc.to_numpy(float)) if cross.auroc.notna().any() else 0.5
    vmin = min(0.5, math.floor(lowest * 10) / 10)
    image = None
    for ax, det in zip(axes, detectors):
        grid = (cross[cross.detector == det]
                .pivot_table(index="train_corpus", columns="test_corpus", values="auroc", aggfunc="first")
                .reindex(index=train, columns=test).to_numpy(float))
        image = ax.imshow(grid, cmap="viridis", vmin=vmin, vmax=1.0)
        for (i, j), v in np.ndenumerate(grid):
            light = not np.isnan(v) and (v - vmin) / (1.0 - vmin) > 0.6
            ax.text(j, i, fmt.num(v), ha="center", va="center", fontsize=9,
                    color="black" if light else "white")
        ax.set_xticks(range(len(test)), test, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(train)), train, fontsize=8)
        ax.set_xlabel("tested on")
        ax.set_ylabel("trained on")
        ax.set_title(det, fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes, label="AUROC", shrink=0.8)
    return _save(fig, path)


def plot_length(length: pd.DataFrame, path: str | Path) -> Path:
    """AUROC against text length (tokens, log2 x) from length.csv: one panel per corpus, one line
    per detector, chance (0.5) dotted."""
    return _save(length_figure(length), path)


def length_figure(length: pd.DataFrame) -> Any:
    corpora = sorted(length.corpus.unique())
    detectors = sorted(length.detector.unique())
    styles = _styles(detectors)
    fig, axes = _figure(len(corpora), ncols=3)
    for ax, corpus in zip(axes, corpora):
        rows = length[length.corpus == corpus]
        for det in detectors:
            r = rows[rows.detector == det].sort_values("length")
            ax.plot(r.length, r.auroc, ms=4, lw=1.5, label=det, **styles[det])
        ax.axhline(0.5, ls=":", color="grey", lw=1)
        _log_axis_at(ax, length.length, lambda v: f"{v:g}", base=2, pad=1.2)
        ax.set_xlabel("text length (tokens)")
        ax.set_title(corpus, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("AUROC")
    _legend_outside(fig, axes)
    return fig


def plot_roc(roc: pd.DataFrame, path: str | Path, n_negatives: int | None = None,
             target_fpr: float | None = None) -> Path:
    """ROC curves from roc.csv on a log FPR axis, so the low-FPR region a release decision turns
    on is readable. FPRs below 1/`n_negatives` (the human test texts; 1e-3 if unknown) are
    drawn at that floor, as the axis label says. One line per detector, chance dashed, the
    target FPR dotted."""
    return _save(roc_figure(roc, n_negatives, target_fpr), path)


def roc_figure(roc: pd.DataFrame, n_negatives: int | None = None, target_fpr: float | None = None) -> Any:
    floor = 1.0 / n_negatives if n_negatives else ROC_FLOOR
    detectors = sorted(roc.detector.unique())
    styles = _styles(detectors)
    fig, (ax,) = _figure(1, panel=(6.6, 4.6))
    for i, det in enumerate(detectors):
        r = roc[roc.detector == det].sort_values(["fpr", "tpr"])
        # markers evenly spaced along the drawn curve (not one per point), staggered per detector
        ax.plot(r.fpr.clip(lower=floor), r.tpr, lw=1.5, ms=5, label=det, **styles[det],
                markevery=(MARKS_PER_LINE * (i % 4) / 4, MARKS_PER_LINE))
    x = np.logspace(math.log10(floor), 0, 200)
    ax.plot(x, x, ls=(0, (1, 3)), color="grey", lw=1, label="chance")
    if target_fpr:
        ax.axvline(target_fpr, ls=":", color="black", lw=1, label=f"target FPR {fmt.fpr(target_fpr)}")
    ax.set_xscale("log")
    ax.set_xlim(floor, 1.0)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(f"false-positive rate (log scale; values below {floor:.2g} drawn at {floor:.2g})")
    ax.set_ylabel("true-positive rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_overlap_cdf(overlap_docs: pd.DataFrame, path: str | Path, floor: float = OVERLAP_FLOOR,
                     ngram: int = 8) -> Path:
    """The GPT-2 paper's Figure 5 from overlap_docs.csv: per group (one line each, file order),
    the cumulative share of documents whose n-gram overlap with the reference is at most x.

    x is log-scaled, so documents with zero overlap are drawn at `floor` (lowered if some
    overlap is that small) and the axis label says so: the curve's height there is the share of
    documents with no overlap. Documents too short for one n-gram (overlap NaN) are left out.
    """
    docs = overlap_docs[(overlap_docs.n_ngrams > 0) & overlap_docs.overlap.notna()]
    positive = docs.overlap[docs.overlap > 0]
    if len(positive) and positive.min() <= floor:
        floor = 10.0 ** (math.floor(math.log10(positive.min())) - 1)
    groups = list(dict.fromkeys(docs.group))
    styles = _styles(groups)
    fig, (ax,) = _figure(1, panel=(6.6, 4.4))
    for i, g in enumerate(groups):
        x = np.sort(docs.overlap[docs.group == g].clip(lower=floor).to_numpy(float))
        y = np.arange(1, len(x) + 1) / len(x)
        # run past x = 1 so a group copied verbatim (a jump at 1) stays visible off the frame
        ax.step(np.r_[floor / 2, x, 1.5], np.r_[0.0, y, 1.0], where="post", lw=1.6, ms=5,
                label=f"{g} (n={len(x)})", markevery=(MARKS_PER_LINE * (i % 4) / 4, MARKS_PER_LINE), **styles[g])
    ax.set_xscale("log")
    ax.set_xlim(floor / 2, 1.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"share of a document's {ngram}-grams found in the reference "
                  f"(log scale; 0 drawn at {floor:g})", fontsize=9)
    ax.set_ylabel("share of documents with overlap ≤ x")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def plot_robustness(df: pd.DataFrame, path: str | Path) -> Path:
    """AUROC per attack from robustness.csv: one panel per detector, attacks on x, filled markers
    with the defences on, hollow with them off, the defended clean AUROC dashed."""
    detectors = list(dict.fromkeys(df.detector))
    attacks = list(dict.fromkeys(df.attack))
    colors = _palette(["on", "off"])
    fig, axes = _figure(len(detectors), ncols=2, panel=(5.6, 3.4))
    x = np.arange(len(attacks))
    for ax, det in zip(axes, detectors):
        rows = df[df.detector == det]
        for defence, face in (("off", "none"), ("on", None)):
            r = rows[rows.defence == defence].set_index("attack").reindex(attacks)
            if r.auroc.notna().any():
                c = colors[defence]
                ax.scatter(x, r.auroc, s=28, facecolors=face or c, edgecolors=c, zorder=3,
                           label="defences on" if defence == "on" else "defences off")
        clean = rows[(rows.defence == "on") & (rows.attack == "none")].auroc
        if len(clean):
            ax.axhline(float(clean.iloc[0]), ls="--", color="grey", lw=1)
        ax.axhline(0.5, ls=":", color="grey", lw=1)
        ax.set_xticks(x, [a.replace("_", " ") for a in attacks], rotation=45, ha="right", fontsize=8)
        ax.set_title(det, fontsize=10)
        ax.set_ylim(min(0.45, float(rows.auroc.min()) - 0.02), 1.01)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel("AUROC")
    _legend_outside(fig, axes)
    return _save(fig, path)


def plot_watermark_length(df: pd.DataFrame, path: str | Path) -> Path:
    """From watermark.csv (rows without an attack): TPR at the test's level against text length
    (tokens, log2 x), one panel per generating model, one line per scheme; the share of plain
    samples the test flags dashed in the same colour."""
    clean = df[df.attack == "none"]
    models = list(dict.fromkeys(clean.model))
    schemes = list(dict.fromkeys(clean.scheme))
    styles = _styles(schemes)
    fig, axes = _figure(len(models), ncols=2, panel=(5.2, 3.4))
    for ax, model in zip(axes, models):
        rows = clean[clean.model == model]
        for scheme in schemes:
            r = rows[rows.scheme == scheme].sort_values("length")
            st = styles[scheme]
            ax.plot(r.length, r.tpr, marker=st["marker"], ms=4, lw=1.5, color=st["color"], label=f"{scheme}: TPR")
            ax.plot(r.length, r.fpr_plain, marker=st["marker"], mfc="none", ms=4, ls="--", lw=1, color=st["color"],
                    label=f"{scheme}: FPR (plain)")
        _log_axis_at(ax, clean.length, lambda v: f"{v:g}", base=2, pad=1.2)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("text length (tokens)")
        ax.set_title(model, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share with p below the level")
    _legend_outside(fig, axes)
    return _save(fig, path)


def plot_watermark_attacks(df: pd.DataFrame, path: str | Path) -> Path:
    """From watermark.csv: TPR at the test's level with no attack and under each attack (the
    samples uncut), one panel per generating model, one marker series per scheme."""
    full = df[df.length == df.length.max()]
    models = list(dict.fromkeys(full.model))
    schemes = list(dict.fromkeys(full.scheme))
    attacks = list(dict.fromkeys(full.attack))
    colors = _palette(schemes)
    fig, axes = _figure(len(models), ncols=2, panel=(5.6, 3.4))
    x = np.arange(len(attacks))
    width = 0.8 / max(len(schemes), 1)
    for ax, model in zip(axes, models):
        rows = full[full.model == model]
        for i, scheme in enumerate(schemes):
            r = rows[rows.scheme == scheme].set_index("attack").reindex(attacks)
            ax.bar(x + (i - (len(schemes) - 1) / 2) * width, r.tpr, width, color=colors[scheme], label=scheme,
                   hatch=HATCHES[i % len(HATCHES)], edgecolor="white")
        ax.set_xticks(x, [a.replace("_", " ") for a in attacks], rotation=45, ha="right", fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.set_title(model, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel("TPR at the test's level")
    _legend_outside(fig, axes)
    return _save(fig, path)
