"""Comparing two runs on the same sites (e.g. two rule sets): what changed and why.

Pure logic on DataFrames and run records (``run.json`` as dicts); nothing
here opens or writes a file. Column names and messages Dutch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.planning.common import TOTAL_LABEL, clean_text
from locatietoets.analysis.ruleset import STAY_TYPES, VERDICTS
from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import stay_label

__all__ = ["Comparison", "compare_runs"]


@dataclass
class Comparison:
    """The differences between run A and run B on the same sites.

    Attributes
    ----------
    sites
        One row per common site: ``locatie_id``, ``gemeente``,
        ``gemeente_code``, ``regio``, ``verblijfstype``, per stay type
        ``oordeel_<type>_a``/``_b``, ``score_<type>_a``/``_b``,
        ``gewijzigd_<type>``, ``regels_erbij_<type>``,
        ``regels_vervallen_<type>``, ``regels_anders_<type>`` (fired in both
        runs, but their definition differs), then ``gewijzigd`` (any stay
        type), ``wijziging`` and ``oorzaak`` (Dutch), ``positie_a`` and
        ``positie_b`` (row in each run).
    transitions
        Long table ``gebied``, ``gemeente_code``, ``verblijfstype``, ``van``,
        ``naar``, ``aantal`` with a :data:`TOTAL_LABEL` area for all sites.
    per_gemeente
        Per gemeente and stay type: ``ongewijzigd``, ``strenger`` (worse
        verdict in B), ``soepeler`` (better verdict in B).
    parameters
        Effective parameters that differ: ``parameter``, ``waarde_a``,
        ``waarde_b``, ``herkomst_a``, ``herkomst_b`` (regelset or config).
    rules
        Rule definitions that differ: ``regel``, ``wat``, ``a``, ``b``;
        verdicts and penalties, and also titles, reasons and sources.
    masked
        Parameters (``gemeente`` empty) and per-gemeente values whose two
        rule sets differ while a config value decides in A or B:
        ``parameter``, ``gemeente``, ``regelset_a``, ``regelset_b``,
        ``waarde_a``, ``waarde_b``, ``herkomst_a``, ``herkomst_b``,
        ``toelichting`` (Dutch; also in ``notes``).
    only_a, only_b
        ``locatie_id`` values present in one run only.
    notes
        Dutch remarks for the summary (e.g. sites left out).
    """

    sites: pd.DataFrame
    transitions: pd.DataFrame
    per_gemeente: pd.DataFrame
    parameters: pd.DataFrame
    rules: pd.DataFrame
    masked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_MASKED_COLUMNS))
    only_a: list[Any] = field(default_factory=list)
    only_b: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> pd.DataFrame:
        """The sites whose verdict changed for at least one stay type."""
        return self.sites[self.sites["gewijzigd"]]


def _fmt_value(value: Any) -> str:
    """A parameter or rule value as a planner reads it: 250, 0,95, 1.000, ja/nee, a table per
    sector as "logistiek 0,35; glastuinbouw 0,5" (never a Python repr such as 0.95 or True)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, (int, float)):
        return nl_value(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k} {_fmt_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt_value(v) for v in value)
    return str(value)


def _diff_parameters(params_a: Mapping[str, Any], params_b: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for name in list(params_a) + [p for p in params_b if p not in params_a]:
        a, b = params_a.get(name, "(ontbreekt)"), params_b.get(name, "(ontbreekt)")
        if a != b:
            rows.append({"parameter": name, "waarde_a": _fmt_value(a), "waarde_b": _fmt_value(b)})
    return pd.DataFrame(rows, columns=["parameter", "waarde_a", "waarde_b"])


def _diff_rules(
    rules_a: Sequence[Mapping[str, Any]], rules_b: Sequence[Mapping[str, Any]]
) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Rule definitions that differ, and per stay type the ids whose verdict/penalty differs."""
    a = {r["id"]: r for r in rules_a}
    b = {r["id"]: r for r in rules_b}
    rows = []
    changed: dict[str, set[str]] = {s: set() for s in STAY_TYPES}
    for rid in list(a) + [r for r in b if r not in a]:
        if rid not in b:
            rows.append({"regel": rid, "wat": "regel", "a": "aanwezig", "b": "ontbreekt"})
            continue
        if rid not in a:
            rows.append({"regel": rid, "wat": "regel", "a": "ontbreekt", "b": "aanwezig"})
            continue
        ra, rb = a[rid], b[rid]
        for key, label in (("oordeel", "oordeel"), ("strafpunten", "strafpunten")):
            va, vb = dict(ra.get(key) or {}), dict(rb.get(key) or {})
            for stay in STAY_TYPES:
                if va.get(stay) != vb.get(stay):
                    rows.append(
                        {
                            "regel": rid,
                            "wat": f"{label} {stay_label(stay)}",
                            "a": _fmt_value(va.get(stay)),
                            "b": _fmt_value(vb.get(stay)),
                        }
                    )
                    changed[stay].add(rid)
        if ra.get("soort") != rb.get("soort"):
            rows.append(
                {"regel": rid, "wat": "soort", "a": str(ra.get("soort")), "b": str(rb.get("soort"))}
            )
            for stay in STAY_TYPES:
                changed[stay].add(rid)
        # texts: they change what a reason says and cites, not the verdict (older run records lack
        # some keys)
        if "reden" in ra and "reden" in rb:
            va, vb = dict(ra.get("reden") or {}), dict(rb.get("reden") or {})
            for stay in STAY_TYPES:
                if va.get(stay) != vb.get(stay):
                    rows.append(
                        {
                            "regel": rid,
                            "wat": f"reden {stay_label(stay)}",
                            "a": str(va.get(stay)),
                            "b": str(vb.get(stay)),
                        }
                    )
        for key, label in (
            ("titel", "titel"),
            ("bron", "bron"),
            ("bron_kort", "bron kort"),
            ("betrouwbaarheid", "betrouwbaarheid"),
        ):
            if key in ra and key in rb and ra.get(key) != rb.get(key):
                rows.append(
                    {"regel": rid, "wat": label, "a": str(ra.get(key)), "b": str(rb.get(key))}
                )
    return pd.DataFrame(rows, columns=["regel", "wat", "a", "b"]), changed


_MASKED_COLUMNS = [
    "parameter",
    "gemeente",
    "regelset_a",
    "regelset_b",
    "waarde_a",
    "waarde_b",
    "herkomst_a",
    "herkomst_b",
    "toelichting",
]


def _masked_parameters(rs_a: Mapping[str, Any], rs_b: Mapping[str, Any]) -> pd.DataFrame:
    """Parameters whose rule-set values differ between A and B while a config value decides in A or
    B.

    Such a difference between the two rule sets is hidden by the config: the
    comparison does not test it (issue 13: the demo config sets
    ``bbg_rand_m = 250`` while the draft rule set says 150). Uses the run
    records' ``parameters_herkomst``, ``regelset_gemeente_waarden`` and
    ``gemeente_parameters`` (older records without them give no rows).
    """
    oa, ob = rs_a.get("parameters_herkomst") or {}, rs_b.get("parameters_herkomst") or {}
    rows = []

    def add(name: str, gemeente: str, ra: Any, rb: Any, wa: Any, wb: Any, ha: str, hb: str) -> None:
        where = f"Parameter '{name}'" + (f" voor gemeente '{gemeente}'" if gemeente else "")
        configs = [side for side, h in (("A", ha), ("B", hb)) if h.startswith("config")]
        if wa == wb:
            tail = (
                f"maar de configuratie zet in beide runs {_fmt_value(wa)}"
                if len(configs) == 2
                else f"maar de configuratie van run {configs[0]} zet {_fmt_value(wa)}"
            )
            tail += (
                ": het verschil tussen de regelsets is gemaskeerd en in deze vergelijking niet "
                "getoetst."
            )
        else:
            tail = (
                f"maar de configuratie van run {' en '.join(configs)} overschrijft dit (A "
                f"gebruikt {_fmt_value(wa)}, "
                f"B {_fmt_value(wb)}): het verschil in de uitkomst komt niet (alleen) van de "
                "regelsets."
            )
        text = f"{where}: regelset A zegt {_fmt_value(ra)}, regelset B {_fmt_value(rb)}, {tail}"
        rows.append(
            {
                "parameter": name,
                "gemeente": gemeente,
                "regelset_a": _fmt_value(ra),
                "regelset_b": _fmt_value(rb),
                "waarde_a": _fmt_value(wa),
                "waarde_b": _fmt_value(wb),
                "herkomst_a": ha,
                "herkomst_b": hb,
                "toelichting": text,
            }
        )

    for name in [n for n in oa if n in ob]:
        a, b = oa[name], ob[name]
        if a.get("regelset_waarde") == b.get("regelset_waarde"):
            continue
        ha, hb = str(a.get("herkomst", "regelset")), str(b.get("herkomst", "regelset"))
        if "config" in (ha, hb):
            add(
                name,
                "",
                a.get("regelset_waarde"),
                b.get("regelset_waarde"),
                a.get("waarde"),
                b.get("waarde"),
                ha,
                hb,
            )

    own_a, own_b = rs_a.get("regelset_gemeente_waarden"), rs_b.get("regelset_gemeente_waarden")
    if own_a is None or own_b is None:
        return pd.DataFrame(rows, columns=_MASKED_COLUMNS)
    eff_a, eff_b = rs_a.get("gemeente_parameters") or {}, rs_b.get("gemeente_parameters") or {}

    def effective(
        origins: Mapping[str, Any], eff: Mapping[str, Any], key: str, name: str
    ) -> tuple[Any, str]:
        entry = ((eff.get(key) or {}).get("parameters") or {}).get(name)
        if entry is not None:
            return entry.get("waarde"), str(entry.get("herkomst", "regelset-gemeente"))
        province = origins.get(name) or {}
        return province.get("waarde"), str(province.get("herkomst", "regelset"))

    for key in list(own_a) + [k for k in own_b if k not in own_a]:
        table_a = (own_a.get(key) or {}).get("parameters") or {}
        table_b = (own_b.get(key) or {}).get("parameters") or {}
        for name in list(table_a) + [n for n in table_b if n not in table_a]:
            if name not in oa or name not in ob:
                continue
            ra = table_a.get(name, (oa[name] or {}).get("regelset_waarde"))
            rb = table_b.get(name, (ob[name] or {}).get("regelset_waarde"))
            if ra == rb:
                continue
            wa, ha = effective(oa, eff_a, key, name)
            wb, hb = effective(ob, eff_b, key, name)
            if ha.startswith("config") or hb.startswith("config"):
                naam = str((own_b.get(key) or own_a.get(key) or {}).get("naam", key))
                add(name, naam if naam == key else f"{naam} ({key})", ra, rb, wa, wb, ha, hb)
    return pd.DataFrame(rows, columns=_MASKED_COLUMNS)


def _explode_rules(values: pd.Series, positions: np.ndarray) -> pd.DataFrame:
    text = values.astype("object").where(values.notna(), "").astype(str).to_numpy()
    frame = pd.DataFrame({"pos": positions, "regel": text})
    frame["regel"] = frame["regel"].str.split(";")
    frame = frame.explode("regel")
    frame["regel"] = frame["regel"].str.strip()
    return frame[frame["regel"] != ""].drop_duplicates()


def _join_per_site(frame: pd.DataFrame, n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    if len(frame):
        joined = frame.sort_values(["pos", "regel"]).groupby("pos")["regel"].agg(";".join)
        out[joined.index.to_numpy(dtype=int)] = joined.to_numpy()
    return out


def compare_runs(
    sites_a: pd.DataFrame,
    sites_b: pd.DataFrame,
    *,
    record_a: Mapping[str, Any],
    record_b: Mapping[str, Any],
    allow_different_sites: bool = False,
) -> Comparison:
    """Compare the verdicts of two runs on the same sites.

    A site "changed" for stay type s when ``oordeel_s`` differs. The rules
    that changed it are the rule ids in ``regels_s`` of B but not A
    (``regels_erbij``), in A but not B (``regels_vervallen``) and those
    fired in both whose definition (verdict, penalty) differs between the
    two rule sets (``regels_anders``). Parameter differences are listed for
    the whole comparison.

    Parameters
    ----------
    sites_a, sites_b
        The ``locaties`` layers of the runs (``locatie_id``,
        ``oordeel_<type>``, ``regels_<type>``, optionally ``score_<type>``,
        ``gemeente``, ``gemeente_code``, ``regio``, ``verblijfstype``).
    record_a, record_b
        The runs' ``run.json``; uses ``regelset`` and
        ``invoer.locaties.sha256``.
    allow_different_sites
        Compare the common ``locatie_id`` values when the runs have
        different sites (the left-out count goes into ``notes``); without it
        such runs raise an error.

    Raises
    ------
    InputError
        When the runs are not on the same sites (and ``allow_different_sites``
        is False), or a run lacks ``locatie_id``.
    """
    for label, frame in (("A", sites_a), ("B", sites_b)):
        if "locatie_id" not in frame:
            raise InputError(
                f"Run {label} heeft geen veld 'locatie_id'. Is dit de uitvoer van 'locatietoets "
                "score'?"
            )
    ids_a = sites_a["locatie_id"].astype(str).to_numpy()
    ids_b = sites_b["locatie_id"].astype(str).to_numpy()
    set_a, set_b = set(ids_a), set(ids_b)
    only_a = sorted(set_a - set_b)
    only_b = sorted(set_b - set_a)
    sha_a = ((record_a.get("invoer") or {}).get("locaties") or {}).get("sha256")
    sha_b = ((record_b.get("invoer") or {}).get("locaties") or {}).get("sha256")
    notes: list[str] = []
    problems = []
    if only_a or only_b:
        common = len(set_a & set_b)
        problems.append(
            f"De runs zijn niet op dezelfde locaties gedraaid: {len(only_a)} locatie-id's alleen "
            "in A "
            f"(bv. {', '.join(only_a[:5]) or '-'}), {len(only_b)} alleen in B (bv. "
            f"{', '.join(only_b[:5]) or '-'}); "
            f"{common} gemeenschappelijk."
        )
    elif sha_a and sha_b and sha_a != sha_b:
        problems.append(
            "De runs hebben dezelfde locatie-id's, maar het invoerbestand van de locaties "
            "verschilt "
            f"(controlegetal A {sha_a[:12]}…, B {sha_b[:12]}…): geometrie of plangegevens kunnen "
            "anders zijn."
        )
    if problems:
        if not allow_different_sites:
            raise InputError(
                problems[0]
                + " Vergelijk twee runs op hetzelfde locatiebestand, of geef --toch om alleen de "
                "gemeenschappelijke locaties te vergelijken."
            )
        notes.append(
            problems[0] + " Met --toch zijn alleen de gemeenschappelijke locaties vergeleken."
        )
        if only_a or only_b:
            notes.append(
                f"Weggelaten: {nl_value(len(only_a))} locaties alleen in A en"
                f" {nl_value(len(only_b))}"
                " alleen in B."
            )
    for label, ids in (("A", ids_a), ("B", ids_b)):
        dup = pd.Series(ids).duplicated()
        if dup.any():
            raise InputError(
                f"Run {label} heeft dubbele locatie-id's (bv. '{ids[dup.to_numpy()][0]}'); "
                "vergelijken kan alleen op unieke id's."
            )

    pos_b_of = pd.Series(np.arange(len(ids_b)), index=ids_b)
    keep_a = np.flatnonzero(
        np.isin(ids_a, list(set_b)) if only_a or only_b else np.ones(len(ids_a), dtype=bool)
    )
    pos_a = keep_a
    pos_b = pos_b_of.loc[ids_a[keep_a]].to_numpy()
    a = sites_a.iloc[pos_a].reset_index(drop=True)
    b = sites_b.iloc[pos_b].reset_index(drop=True)
    n = len(a)

    rs_a = record_a.get("regelset") or {}
    rs_b = record_b.get("regelset") or {}
    parameters = _diff_parameters(rs_a.get("parameters") or {}, rs_b.get("parameters") or {})
    origins_a, origins_b = (
        rs_a.get("parameters_herkomst") or {},
        rs_b.get("parameters_herkomst") or {},
    )
    parameters["herkomst_a"] = [
        str((origins_a.get(p) or {}).get("herkomst", "")) for p in parameters["parameter"]
    ]
    parameters["herkomst_b"] = [
        str((origins_b.get(p) or {}).get("herkomst", "")) for p in parameters["parameter"]
    ]
    masked = _masked_parameters(rs_a, rs_b)
    notes.extend(masked["toelichting"].tolist())
    rules, changed_defs = _diff_rules(rs_a.get("regels") or [], rs_b.get("regels") or [])
    if rs_a.get("vingerafdruk") and rs_a.get("vingerafdruk") == rs_b.get("vingerafdruk"):
        notes.append(
            "Beide runs gebruiken dezelfde regelset met dezelfde waarden (gelijke vingerafdruk)."
        )
    elif (
        parameters.empty
        and rules.empty
        and masked.empty
        and rs_a.get("vingerafdruk") != rs_b.get("vingerafdruk")
    ):
        notes.append(
            "De regelsets verschillen alleen in per-gemeente waarden of in id/versie (zie "
            "run.json)."
        )

    out = pd.DataFrame({"locatie_id": a["locatie_id"].to_numpy()})
    for col in ("gemeente", "gemeente_code", "regio", "verblijfstype"):
        out[col] = (
            (b[col] if col in b else a[col] if col in a else pd.Series([None] * n))
            .astype("object")
            .to_numpy()
        )
    positions = np.arange(n)
    any_changed = np.zeros(n, dtype=bool)
    change_text = [np.full(n, "", dtype=object)]
    cause_parts = []
    for stay in STAY_TYPES:
        col = f"oordeel_{stay}"
        va = clean_text(a[col]) if col in a else pd.Series([None] * n)
        vb = clean_text(b[col]) if col in b else pd.Series([None] * n)
        out[f"{col}_a"] = va.to_numpy()
        out[f"{col}_b"] = vb.to_numpy()
        for side, frame in (("a", a), ("b", b)):
            sc = f"score_{stay}"
            out[f"{sc}_{side}"] = (
                pd.to_numeric(frame[sc], errors="coerce").to_numpy() if sc in frame else np.nan
            )
        changed = (va.fillna("") != vb.fillna("")).to_numpy()
        out[f"gewijzigd_{stay}"] = changed
        any_changed |= changed
        rc = f"regels_{stay}"
        ra = _explode_rules(a[rc] if rc in a else pd.Series([""] * n), positions)
        rb = _explode_rules(b[rc] if rc in b else pd.Series([""] * n), positions)
        merged = ra.merge(rb, on=["pos", "regel"], how="outer", indicator=True)
        added = _join_per_site(merged[merged["_merge"] == "right_only"], n)
        removed = _join_per_site(merged[merged["_merge"] == "left_only"], n)
        both = merged[(merged["_merge"] == "both") & merged["regel"].isin(changed_defs[stay])]
        redefined = _join_per_site(both, n)
        out[f"regels_erbij_{stay}"] = added
        out[f"regels_vervallen_{stay}"] = removed
        out[f"regels_anders_{stay}"] = redefined
        label = stay_label(stay)
        text = np.where(
            changed,
            label
            + ": "
            + va.fillna("geen oordeel").to_numpy(dtype=object)
            + " → "
            + vb.fillna("geen oordeel").to_numpy(dtype=object),
            "",
        )
        change_text.append(text)
        cause = pd.Series("", index=range(n), dtype=object)
        for values, what in (
            (added, "regel erbij"),
            (removed, "regel vervallen"),
            (redefined, "regel anders gedefinieerd"),
        ):
            part = pd.Series(values, dtype=object)
            has = (part != "") & pd.Series(changed)
            cause = cause.where(
                ~has,
                cause
                + np.where(cause != "", ", ", "")
                + what
                + " "
                + part.str.replace(";", ", ", regex=False),
            )
        unexplained = pd.Series(changed) & (cause == "")
        cause = cause.where(
            ~unexplained, "andere parameterwaarde of invoer (zelfde regels gevuurd)"
        )
        cause_parts.append(np.where(changed, label + ": " + cause.to_numpy(dtype=object), ""))
    out["gewijzigd"] = any_changed
    out["wijziging"] = _join_nonempty(change_text[1:])
    out["oorzaak"] = _join_nonempty(cause_parts)
    out["positie_a"] = pos_a
    out["positie_b"] = pos_b

    transitions, per_gem = _transitions(out)
    return Comparison(
        sites=out,
        transitions=transitions,
        per_gemeente=per_gem,
        parameters=parameters,
        rules=rules,
        masked=masked,
        only_a=only_a,
        only_b=only_b,
        notes=notes,
    )


def _join_nonempty(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Join per-site texts with '; ', skipping empty ones (vectorised over sites)."""
    result = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        both = (result != "") & (part != "")
        result = np.where(both, result + "; " + part, np.where(part != "", part, result))
    return result


def _transitions(sites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    area = clean_text(sites["gemeente"]).fillna("buiten de gemeenten")
    code = clean_text(sites["gemeente_code"])
    rows = []
    counts = []
    severity = {v: i for i, v in enumerate(VERDICTS)}
    for stay in STAY_TYPES:
        van = clean_text(sites[f"oordeel_{stay}_a"]).fillna("geen oordeel")
        naar = clean_text(sites[f"oordeel_{stay}_b"]).fillna("geen oordeel")
        frame = pd.DataFrame(
            {"gebied": area, "gemeente_code": code, "verblijfstype": stay, "van": van, "naar": naar}
        )
        rows.append(frame)
        sa = van.map(severity)
        sb = naar.map(severity)
        c = pd.DataFrame(
            {
                "gebied": area,
                "gemeente_code": code,
                "verblijfstype": stay,
                "ongewijzigd": (van == naar).astype(int),
                "strenger": (sb > sa).astype(int),
                "soepeler": (sb < sa).astype(int),
                "anders": ((van != naar) & (sa.isna() | sb.isna())).astype(int),
            }
        )
        counts.append(c)
    long = pd.concat(rows, ignore_index=True)
    per_area = (
        long.groupby(["gebied", "verblijfstype", "van", "naar"], dropna=False)
        .size()
        .rename("aantal")
        .reset_index()
    )
    codes = long.drop_duplicates("gebied").set_index("gebied")["gemeente_code"]
    per_area["gemeente_code"] = per_area["gebied"].map(codes)
    total = long.groupby(["verblijfstype", "van", "naar"]).size().rename("aantal").reset_index()
    total["gebied"] = TOTAL_LABEL
    total["gemeente_code"] = None
    transitions = pd.concat([per_area, total], ignore_index=True)[
        ["gebied", "gemeente_code", "verblijfstype", "van", "naar", "aantal"]
    ]
    per_gem = (
        pd.concat(counts, ignore_index=True)
        .groupby(["gebied", "verblijfstype"], sort=True)
        .agg(
            gemeente_code=("gemeente_code", "first"),
            ongewijzigd=("ongewijzigd", "sum"),
            strenger=("strenger", "sum"),
            soepeler=("soepeler", "sum"),
            anders=("anders", "sum"),
        )
        .reset_index()
    )
    order = {s: i for i, s in enumerate(STAY_TYPES)}
    per_gem = per_gem.sort_values(
        ["gebied", "verblijfstype"],
        key=lambda s: s.map(order) if s.name == "verblijfstype" else s.str.casefold(),
        kind="mergesort",
    )
    return transitions, per_gem.reset_index(drop=True)
