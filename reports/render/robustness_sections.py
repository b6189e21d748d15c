"""Report blocks for detection under attack: the figure first (AUROC per attack, defended and
undefended, one panel per detector), then the table with the human side (false accusations)."""
from __future__ import annotations

from pathlib import Path

from . import fmt, plots
from .blocks import Block, Figure, Heading, Note, Table
from .data import StudyData
from .detection_sections import FIGURES_LINK, TABLES_LINK, target_fpr


def robustness_blocks(data: StudyData, figures_dir: Path) -> list[Block]:
    df = data.table("robustness.csv")
    if df is None:  # the study has no [robustness] section: nothing to say
        return []
    blocks: list[Block] = [Heading("Detection under attack", 2, "robustness")]
    if df.empty:
        return blocks + [Note("robustness.csv has no rows: the attack section is left out.")]
    fpr = target_fpr(data)
    plots.plot_robustness(df, figures_dir / "robustness.png")
    blocks.append(Figure(
        FIGURES_LINK + "robustness.png", "AUROC under each attack, with and without the defences",
        "Held-out machine texts under each attack against clean held-out human texts (RAID's protocol). "
        "Filled: the detector's text normalisation on; hollow: off. The dashed line is the clean AUROC "
        "with the defences on; a defended detector that holds stays on it.", TABLES_LINK + "robustness.csv"))
    base = df[df.attack == "none"].set_index(["detector", "defence"]).auroc
    rows = []
    for r in df.itertuples():
        clean = base.get((r.detector, r.defence))
        rows.append([r.detector, r.attack, r.level, r.defence, fmt.num(r.auroc, 3),
                     "" if r.attack == "none" or clean is None else f"{r.auroc - clean:+.3f}",
                     fmt.with_ci(r.tpr, r.tpr_lo, r.tpr_hi, 3),
                     fmt.with_ci(r.fpr_human_attacked, r.fpr_human_attacked_lo, r.fpr_human_attacked_hi, 3),
                     fmt.with_ci(r.fpr_human_clean, r.fpr_human_clean_lo, r.fpr_human_clean_hi, 3)])
    # a study from before the rates' intervals has none to show: its headers promise none
    exact = df.tpr_lo.notna().any()
    ci = " [exact 95% CI]" if exact else ""
    blocks.append(Table(
        "robustness", ["detector", "attack", "level", "defences", "AUROC", "change", f"TPR at {fmt.fpr(fpr)} FPR{ci}",
                       f"FPR, attacked human{ci}", f"FPR, clean human{ci}"], rows,
        caption="AUROC and TPR: attacked machine texts against clean human texts, the threshold set on those "
                "human scores at the target FPR. The FPR columns: held-out human texts carrying the same attack, "
                "and the same texts clean, at the detector's saved threshold: a rise is a false accusation the "
                "attack causes. "
                + ("Brackets: exact (Clopper-Pearson) 95% intervals of the rates, which count texts (0 of 40 reads "
                   "[0.000, 0.088], never a certain 0)." if exact else
                   "This study predates intervals for these rates: run it again for exact ones."),
        csv=TABLES_LINK + "robustness.csv", numeric=frozenset({4, 5, 6, 7, 8})))
    return blocks
