"""The checks of a whole level, in order: what reading found, wilayah, the contract, duplicate keys; then,
after mapping, the domain rules and the same usulan arriving from two sources of one forum.

Each step works on the rows still clean (no error issue yet), records which rows each rule was applied to
(the quality summary counts them) and returns a new `Checked`: nothing it is given is changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from schemas import SLICE_KEY, USULAN
from tasks.extract.discover import FILE_ID
from tasks.extract.read import Extraction
from tasks.extract.wilayah import WILAYAH_NAMES, WILAYAH_RULES, resolve_wilayah
from tasks.map.opd import text_key
from tasks.validate.contract import CONTRACT_RULES, contract_issues, duplicate_key_columns, duplicate_key_issues
from tasks.validate.domain import DOMAIN_RULES, domain_issues
from tasks.validate.issues import concat_issues, issues_frame, with_severity
from tasks.validate.rules import ValidationConfig

READ_RULES = (
    "empty_row",
    "not_a_number",
    "bad_date",
    "unknown_status",
    "malformed_record",
    "encoding_fallback",
    "tahun_mismatch",
)
SLICE = [*SLICE_KEY, "stream"]
FORUM = ["tahun", "level", "kode_pemda", "stream"]
_GENERATED_ID = re.compile(r"^\d{2}\.\d{2}-[0-9a-f]{10}-\d+$")  # tasks.extract.staging.generated_id


@dataclass(frozen=True)
class Checked:
    """A level's rows with every issue found so far (the run's severities) and what each rule checked."""

    rows: pd.DataFrame  # every row read (contract columns, file and raw position), index 0..n-1
    issues: pd.DataFrame
    checked: dict[str, np.ndarray]  # rule -> rows it was applied to (boolean mask over `rows`)
    config: ValidationConfig

    @property
    def errors(self) -> np.ndarray:
        """Rows with an error issue."""
        bad = np.zeros(len(self.rows), dtype=bool)
        if len(self.issues):
            at = self.issues.loc[self.issues["severity"] == "error", "row"].to_numpy(dtype=np.int64)
            bad[at] = True
        return bad

    def clean(self) -> pd.DataFrame:
        return self.rows[~self.errors]

    def add(self, issues: pd.DataFrame, rules: tuple[str, ...], applied: np.ndarray) -> Checked:
        """A new Checked with `issues` (severities of the run) and `rules` applied to the rows `applied`."""
        issues = with_severity(issues, self.config.severity_of)
        return replace(
            self,
            issues=concat_issues([self.issues, issues]),
            checked={**self.checked, **dict.fromkeys(rules, applied)},
        )

    def quality_flags(self, rows: pd.Index) -> pd.Series:
        """Warning rule ids per row of `rows`, comma separated (rows without warnings: missing)."""
        warnings = self.issues[self.issues["severity"] == "warning"].drop_duplicates(["row", "rule"])
        several = warnings.row.duplicated(keep=False).to_numpy()  # most flagged rows have one rule: no joining
        one = pd.Series(warnings.rule.to_numpy()[~several], index=warnings.row.to_numpy()[~several], dtype="string")
        joined = warnings[several].astype({"rule": object}).groupby("row")["rule"].agg(",".join).astype("string")
        return pd.concat([one, joined]).reindex(rows)


def check_read(extraction: Extraction, level: str, config: ValidationConfig) -> Checked:
    """What reading and parsing found, then wilayah names resolved on the rows still clean, the contract's rules
    and duplicate keys within a slice."""
    rows = extraction.rows
    everything = np.ones(len(rows), dtype=bool)
    checked = Checked(rows, concat_issues([]), {}, config).add(extraction.issues, READ_RULES, everything)

    clean = ~checked.errors
    codes, wilayah = resolve_wilayah(rows.loc[clean, list(WILAYAH_NAMES)], desa_required=level == "desa")
    rows = rows.copy()
    rows.loc[clean, ["kode_kecamatan", "kode_desa"]] = codes.to_numpy()
    checked = replace(checked, rows=rows).add(wilayah, WILAYAH_RULES, clean)

    # the contract's rules are row by row: checked on every row (no copy of the clean ones), kept for the clean
    clean = ~checked.errors
    contract = contract_issues(rows[USULAN.column_names])
    checked = checked.add(contract[clean[contract["row"].to_numpy(dtype=np.int64)]], CONTRACT_RULES, clean)
    clean = ~checked.errors
    keys = duplicate_key_columns(SLICE)
    return checked.add(duplicate_key_issues(rows.loc[clean, keys], within=SLICE), ("duplicate_key",), clean)


def duplicate_source_issues(frame: pd.DataFrame, mtime: pd.Series, left_out: pd.Index | None = None) -> pd.DataFrame:
    """The same usulan arriving from two sources of one forum (e.g. the SIPD export and a berita acara annex of
    one kecamatan forum): same origin (id_usulan_asal, or the source's own id), or the same kecamatan, text and
    volume. One row is kept, preferring a source that carries its own ids (SIPD) over one whose ids were made
    up here (annexes), then the later file; the others are issues naming the row kept. `mtime`: file_id ->
    modification time; `left_out`: rows not considered (they break an error rule)."""
    sources = frame[[*FORUM, "source"]]  # only the forums fed by several sources are looked at whole
    if left_out is not None and len(left_out):
        sources = sources.drop(index=left_out, errors="ignore")
    many = sources.groupby(FORUM, sort=False)["source"].transform("nunique") > 1
    rows = frame.loc[many.index[many.to_numpy()]]
    if rows.empty:
        return issues_frame([], "duplicate_source", "id_usulan", None)
    generated = rows.id_usulan.astype(str).map(lambda v: bool(_GENERATED_ID.match(v)))
    own_id = rows.id_usulan.where(~generated)
    ranked = rows.assign(
        _annex=generated.astype(int),
        _mtime=-rows[FILE_ID].map(mtime).astype(float),
        _file=rows.source_file,
        _row=rows.source_row,
    ).sort_values(["_annex", "_mtime", "_file", "_row"], ascending=[True, True, False, True], kind="stable")
    keys = {
        "origin": rows.id_usulan_asal.fillna(own_id),
        "content": pd.Series(
            list(zip(rows.kode_kecamatan, text_key(rows.uraian_usulan), rows.volume)), index=rows.index
        ).where(rows.kode_kecamatan.notna() & rows.uraian_usulan.notna()),
    }
    flagged: dict[int, str] = {}
    for key in keys.values():
        live = ranked[~ranked.index.isin(list(flagged)) & key.reindex(ranked.index).notna()]
        group = [*FORUM, key.reindex(live.index).astype(str).rename("_key")]
        first = live.groupby(group, sort=False)
        kept_at = first.cumcount() == 0
        kept = live[kept_at]
        keeper = pd.Series(
            kept.index, index=pd.MultiIndex.from_frame(kept[FORUM].assign(_key=key.reindex(kept.index).astype(str)))
        )
        candidates = live[~kept_at]
        owner = keeper.reindex(
            pd.MultiIndex.from_frame(candidates[FORUM].assign(_key=key.reindex(candidates.index).astype(str)))
        ).to_numpy()
        other_source = candidates.source.to_numpy() != rows.loc[owner, "source"].to_numpy()
        for row, kept_row in zip(candidates.index[other_source], owner[other_source]):
            k = rows.loc[kept_row]
            flagged[row] = f"{k.source_file} baris/row {k.source_row}, id {k.id_usulan}"
    if not flagged:
        return issues_frame([], "duplicate_source", "id_usulan", None)
    at = sorted(flagged)
    return issues_frame(
        at, "duplicate_source", "id_usulan", rows.loc[at, "id_usulan"], pd.Series([flagged[r] for r in at], index=at)
    )


@dataclass(frozen=True)
class Ruled:
    """A level after every check: what to publish per slice, and why a slice is stopped."""

    checked: Checked
    publishable: pd.DataFrame  # rows without an error issue, mapped and normalised, with quality_flags
    stopped: dict[tuple, str]  # slice (SLICE values) -> why it is not published


def check_rules(
    checked: Checked,
    mapped: pd.DataFrame,
    level: str,
    tahun: int,
    kamus: pd.DataFrame,
    opd_names: pd.DataFrame,
    lower: pd.DataFrame | None,
    accepted_before: pd.DataFrame,
    mtime: pd.Series,
) -> Ruled:
    """Domain rules and duplicate sources on the mapped clean rows, then the error share of each slice: a slice
    over the threshold is stopped (not published) with a message naming its main problem."""
    applied = np.zeros(len(checked.rows), dtype=bool)
    applied[checked.rows.index.get_indexer(mapped.index)] = True
    normalised, issues = domain_issues(mapped, level, tahun, kamus, opd_names, lower, accepted_before)
    checked = checked.add(issues, DOMAIN_RULES, applied)
    erring = checked.rows.index[checked.errors]
    checked = checked.add(duplicate_source_issues(normalised, mtime, erring), ("duplicate_source",), applied)

    errors = checked.errors
    stopped = {}
    config = checked.config
    per_slice = checked.rows[SLICE].assign(_error=errors).groupby(SLICE, sort=False)["_error"].agg(["size", "mean"])
    for slice_key, size, share in per_slice.itertuples(name=None):
        if size >= config.min_rows_to_stop and share > config.max_error_share:
            stopped[slice_key] = (
                f"{share:.0%} of the rows break an error rule, more than the {config.max_error_share:.0%} allowed: "
                f"the slice is stopped and not published ({_main_problem(checked, slice_key)})"
            )
    publishable = normalised.drop(index=checked.rows.index[errors], errors="ignore")
    publishable = publishable.assign(quality_flags=checked.quality_flags(publishable.index))
    return Ruled(checked, publishable, stopped)


def _main_problem(checked: Checked, slice_key: tuple) -> str:
    """'most: missing_value on uraian_usulan, 120 rows, e.g. 2025/18.02/desa/x.csv row 5'."""
    rows = checked.rows
    mine = rows.index[(rows[SLICE] == pd.Series(slice_key, index=SLICE)).all(axis=1)]
    errors = checked.issues[(checked.issues["severity"] == "error") & checked.issues["row"].isin(mine)]
    if errors.empty:
        return "no single rule"
    top = errors.groupby(["rule", "field"], dropna=False).size().sort_values(ascending=False)
    (rule, field), count = top.index[0], int(top.iloc[0])
    example = rows.loc[errors.loc[errors["rule"] == rule, "row"].iloc[0]]
    on = f" on {field}" if isinstance(field, str) else ""
    main = f"most: {rule}{on}, {count:,} rows, e.g. {example.source_file} row {example.source_row}"
    if not isinstance(field, str) or field not in rows:
        return main
    filled = rows.loc[mine, field].notna().groupby(rows.loc[mine, "source_file"]).any()
    without = list(filled.index[~filled])
    if not without:
        return main
    shown = ", ".join(without[:3]) + (f" and {len(without) - 3} more" if len(without) > 3 else "")
    return f"{main}; no {field} on any row of {shown}: its column is missing or not recognised"
