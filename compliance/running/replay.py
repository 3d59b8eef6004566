"""Replaying a log: every recorded event judged again with the current rules, and every decision
that now differs, grouped by what changed (the rulebook, the agreement, both or neither). The
records of an incomplete batch (its recording stopped before its end) are left out, and counted:
a review replayed without its missing rows would not be the review that was recorded."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from compliance.decision.output_columns import OUTPUT_COLUMNS
from compliance.decision_log.batches import agreement_fingerprint, rulebook_fingerprint
from compliance.decision_log.completeness import INCOMPLETE, PREDATES_SEALS
from compliance.decision_log.read import _rows
from compliance.decision_log.schema import LogError

DECISION_FIELDS = tuple(c for c in OUTPUT_COLUMNS if c not in ("notice_id", "reasons"))
"""The output fields replay compares (``reasons`` is prose derived from them and is not compared)."""


def _same(a: Any, b: Any) -> bool:
    norm = lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)  # noqa: E731
    return norm(a) == norm(b)


@dataclass
class Difference:
    seq: int
    notice_id: str
    cause: str  # rulebook | agreement | rulebook and agreement | neither
    changes: dict[str, tuple[Any, Any]]  # field -> (recorded, now)


@dataclass
class Replay:
    """``records``: the records replayed; ``left_out``: the records of each incomplete batch, by
    batch, not replayed; ``predating``: the records replayed whose batches predate seals. ``ok``
    says whether every replayed decision is unchanged; what was left out does not change it."""

    records: int
    differences: list[Difference] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (seq, why it could not replay)
    left_out: dict[int, int] = field(default_factory=dict)
    predating: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences and not self.failures

    @property
    def changed(self) -> set[str]:
        return {d.notice_id for d in self.differences}

    def grouped(self) -> dict[str, list[Difference]]:
        groups: dict[str, list[Difference]] = {}
        for d in self.differences:
            groups.setdefault(d.cause, []).append(d)
        return groups

    def report(self) -> str:
        lines = [
            f"Replayed {self.records} records: {len(self.differences)} decisions now differ"
            + (f", {len(self.failures)} could not be replayed" if self.failures else "")
        ]
        if self.left_out:
            batches = ", ".join(map(str, sorted(self.left_out)))
            lines.append(
                f"Left out {sum(self.left_out.values()):,} records of {len(self.left_out)} incomplete "
                f"batch{'es' if len(self.left_out) > 1 else ''} ({batches}): their recording stopped "
                f"before its end (see 'compliance log verify')"
            )
        if self.predating:
            lines.append(
                f"({self.predating:,} of the records replayed predate seals: whether their batches "
                f"were recorded to their end is not known)"
            )
        titles = {
            "rulebook": "rulebook changed",
            "agreement": "agreement changed",
            "rulebook and agreement": "rulebook and agreement changed",
            "neither": "neither rulebook nor agreement changed",
        }
        for cause, diffs in self.grouped().items():
            lines.append(f"\n{titles.get(cause, cause)}: {len(diffs)}")
            for d in diffs:
                what = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in d.changes.items())
                lines.append(f"  record {d.seq} {d.notice_id}: {what}")
        for seq, why in self.failures:
            lines.append(f"  record {seq}: could not replay: {why}")
        return "\n".join(lines)


def replay(
    path: Path | str,
    agreement_dir: Path | str | None = None,
    *,
    rules_dir: Path | str | None = None,
    fields: tuple[str, ...] = DECISION_FIELDS,
) -> Replay:
    """Re-evaluate every recorded event with the current rules (``rules_dir``, default the bundled
    rules) and its recorded agreement directory (or ``agreement_dir``); report every decision whose
    ``fields`` now differ, with the cause: the rulebook fingerprint changed, the agreement's, both,
    or neither. A ``check()`` record is replayed with ``check()``; the records of one ``review()``
    batch are reviewed again together, in their order, so that each sees the same earlier sales;
    each batch is given the seller's history its call was given, when its log recorded one. A
    check whose history could not be read is not judged again (``Replay.failures`` says why).
    The records of incomplete batches are left out (``Replay.left_out``)."""
    from compliance.deal.agreement import AgreementError, load_agreement
    from compliance.rulebook.loader import RULES_DIR, RulebookError
    from compliance.running.check import check
    from compliance.running.review import review

    rules_dir = Path(rules_dir or RULES_DIR).resolve()
    frame = _rows(path)
    incomplete = (frame["batch_state"] == INCOMPLETE).to_numpy(dtype=bool)
    left_out = frame.loc[incomplete, "batch"].value_counts()
    frame = frame[~incomplete]
    result = Replay(
        records=len(frame),
        left_out={int(b): int(n) for b, n in left_out.items()},
        predating=int((frame["batch_state"] == PREDATES_SEALS).sum()),
    )
    if not len(frame):
        return result
    try:
        current_rules = rulebook_fingerprint(rules_dir)
    except (RulebookError, OSError) as exc:
        raise LogError(f"the current rulebook {rules_dir} cannot be loaded: {exc}") from None
    agreements: dict[str, Any] = {}
    fingerprints: dict[str, str] = {}

    def agreement_for(directory: str):
        if directory not in agreements:
            agreements[directory] = load_agreement(directory)
            fingerprints[directory] = agreement_fingerprint(directory)
        return agreements[directory]

    for _batch, group in frame.groupby("batch", sort=False):
        seqs = group["seq"].tolist()
        directory = str(agreement_dir) if agreement_dir is not None else group["agreement_dir"].iloc[0]
        try:
            agreement = agreement_for(directory)
            events = list(group["event"])
            history = group["history"].iloc[0]
            history = None if history is None else json.loads(history)
            if isinstance(history, dict):
                unread = f"the seller's history given to the check could not be read: {history['unread']}"
                result.failures.extend((s, f"not judged again: {unread}") for s in seqs)
                continue
            if group["source"].iloc[0] == "review":
                now = review(pd.DataFrame(events), agreement, rules_dir=rules_dir, history=history).to_dict("records")
            else:
                now = [check(e, agreement, rules_dir=rules_dir, history=history).to_row() for e in events]
        except (AgreementError, RulebookError, ValueError, OSError, KeyError, TypeError) as exc:
            result.failures.extend((s, f"{type(exc).__name__}: {exc}") for s in seqs)
            continue
        rules_changed = group["rulebook_fingerprint"].to_numpy() != current_rules
        agreement_changed = group["agreement_fingerprint"].to_numpy() != fingerprints[directory]
        for k, (seq, notice_id, old) in enumerate(zip(seqs, group["notice_id"], group["output"], strict=True)):
            changes = {f: (old.get(f), now[k].get(f)) for f in fields if not _same(old.get(f), now[k].get(f))}
            if changes:
                cause = {
                    (True, True): "rulebook and agreement",
                    (True, False): "rulebook",
                    (False, True): "agreement",
                    (False, False): "neither",
                }[(bool(rules_changed[k]), bool(agreement_changed[k]))]
                result.differences.append(Difference(int(seq), notice_id, cause, changes))
    result.differences.sort(key=lambda d: d.seq)
    result.failures.sort()
    return result
