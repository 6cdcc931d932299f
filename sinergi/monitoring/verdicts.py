"""The words of an impact analysis: the verdict, its reasons and caveats,
in sentences a kepala dinas reads (pages, the API and the rakor brief)."""

from __future__ import annotations

import logging
import math

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from sinergi.core.charts import figure

from . import analysis

logger = logging.getLogger(__name__)
VERDICT_LABELS = {
    analysis.ENOUGH: gettext_lazy("Income rose clearly"),
    analysis.LIKELY: gettext_lazy("Income probably rose"),
    analysis.NO_DIFFERENCE: gettext_lazy("No difference seen yet"),
    analysis.NOT_ENOUGH: gettext_lazy("Not enough data"),
    analysis.DOWN: gettext_lazy("Income fell clearly"),
}
COVARIATE_LABELS = {
    "baseline_income": gettext_lazy("income at baseline (Rp)"),
    "desil": gettext_lazy("desil"),
    "desil_missing": gettext_lazy("desil unknown (share)"),
    "family_size": gettext_lazy("family size"),
    "female_head": gettext_lazy("female head of family (share)"),
}


def rupiah(value) -> str:
    """Rp 1.234.567 in Indonesian, Rp 1,234,567 in English (the active
    language's grouping, as the charts have it); a minus sign when negative."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    amount = round(float(value))
    return f"{'−' if amount < 0 else ''}Rp {figure(abs(amount), 0)}"


def reason_texts(result: analysis.Result, th: analysis.Thresholds) -> list[str]:
    words = {
        "no_comparison": _("There is no one to compare with: no family that never joined "
                           "has an income recorded in both rounds, or members and "
                           "non-members cannot be told apart by their baseline data."),
        "no_members": _("No member family joined between these two rounds with an income "
                        "recorded in both; choose other rounds."),
        "few_members": _("Only %(n)d member families could be matched; at least %(min)d are "
                         "needed.") % {"n": result.main.members if result.main else 0,
                                       "min": th.min_members},
        "few_controls": _("Only %(n)d comparison families could be matched; at least %(min)d "
                          "are needed.") % {"n": result.main.controls if result.main else 0,
                                            "min": th.min_controls},
        "few_villages": _("The families come from %(n)d villages only; at least %(min)d are "
                          "needed to tell a village's luck from the group's effect.")
        % {"n": result.main.villages if result.main else 0, "min": th.min_villages},
        "poor_balance": _("Members and their comparison families still differ too much "
                          "before joining (a standardised difference of %(smd)s; at most "
                          "%(max)s)."),
        "no_variation": _("The incomes do not vary enough to estimate anything."),
        "placebo_failed": _("Before joining, members' incomes already moved differently from "
                            "the comparison families' (the placebo test between the two "
                            "rounds before joining found a difference), so a difference after "
                            "joining cannot be credited to the group."),
    }
    if result.main is not None:
        words["poor_balance"] = words["poor_balance"] % {
            "smd": figure(result.main.max_smd, 2), "max": figure(th.max_smd, 2)}
    return [words[r] for r in result.reasons]


def sentence(result: analysis.Result) -> str:
    """One sentence of the estimate: "Rp X per month (Rp A – B)"."""
    m = result.main
    if result.verdict == analysis.NOT_ENOUGH:
        return _("These data cannot carry a conclusion yet, for the reasons below.")
    if m is None or not math.isfinite(m.effect):
        return _("No estimate could be made.")
    return _("Joining changed a family's monthly income by %(effect)s per month (95 %% "
             "interval %(lower)s – %(upper)s), comparing %(members)d member families with "
             "%(controls)d similar families that never joined, in %(villages)d villages.") % {
        "effect": rupiah(m.effect), "lower": rupiah(m.lower), "upper": rupiah(m.upper),
        "members": m.members, "controls": m.controls, "villages": m.villages}


def naive_text(result: analysis.Result) -> str:
    if result.naive_before_after is None:
        return ""
    return _("A simple before/after of the members says %(naive)s, and members against all "
             "non-members at follow-up differ by %(gap)s. Both mislead: incomes change for "
             "everyone between rounds, and the families recruited were not like the others "
             "to begin with; only the comparison with similar families that did not join "
             "separates the group's effect.") % {
        "naive": rupiah(result.naive_before_after), "gap": rupiah(result.naive_member_gap)}


def caveats(result: analysis.Result, th: analysis.Thresholds, *, has_pre: bool,
            flagged: int = 0) -> list[str]:
    out = []
    if flagged:
        out.append(ngettext(
            "%(n)d family is left out because a total of theirs was flagged as far from "
            "their village's (confirmed on entry); correct it if it was a typing error.",
            "%(n)d families are left out because a total of theirs was flagged as far from "
            "their village's (confirmed on entry); correct them if they were typing errors.",
            flagged) % {"n": flagged})
    m = result.main
    if m is None:
        return out
    if m.dropped:
        out.append(_("%(n)d member families had no similar non-member in their kecamatan and "
                     "are left out.") % {"n": m.dropped})
    if m.method == "wild bootstrap":
        out.append(_("With fewer than %(n)d villages, the interval comes from a wild cluster "
                     "bootstrap (%(draws)d draws).") % {"n": th.bootstrap_below,
                                                       "draws": th.bootstrap_draws})
    if math.isfinite(m.max_smd) and th.target_smd < m.max_smd <= th.max_smd:
        out.append(_("Balance after matching is acceptable but not ideal (largest "
                     "standardised difference %(smd)s; the aim is %(aim)s).")
                   % {"smd": figure(m.max_smd, 2), "aim": figure(th.target_smd, 2)})
    if not has_pre:
        out.append(_("There is no round before the baseline, so whether members' incomes "
                     "were already moving differently could not be checked."))
    elif result.placebo is not None and "placebo_failed" not in result.reasons:
        out.append(_("The placebo test passed (before joining: %(e)s, interval %(lo)s – "
                     "%(hi)s); that is weak evidence, not proof, of parallel trends.")
                   % {"e": rupiah(result.placebo.effect), "lo": rupiah(result.placebo.lower),
                      "hi": rupiah(result.placebo.upper)})
    out.append(_("Income is as reported in the survey rounds; family size and the head's sex "
                 "are today's registry values."))
    return out


BRIEF_KINDS_MAX = 4  # group kinds analysed in a brief (those with the most members)


def brief_section(scope_root: str | None, region_code: str) -> dict | None:
    """The rakor brief's monitoring section for a region: the latest income
    rounds (families recorded, median) and, per group kind with members,
    the verdict between the last two rounds. Aggregates only."""
    import statistics

    from django.db.models import Count

    from sinergi.groups.models import GroupKind, GroupMember
    from sinergi.regions.codes import village_in_q

    from . import selectors
    from .models import INCOME, IncomeRecord, Round

    rounds = list(Round.objects.filter(kind=INCOME).filter(selectors.reaching_q(region_code))
                  .order_by("ends_on", "id")[:selectors.LIST_MAX])
    if not rounds:
        return None
    lines = []
    for rnd in rounds[-3:]:
        totals = list(IncomeRecord.objects.filter(round=rnd).filter(
            village_in_q("village_code", region_code)).values_list("total", flat=True))
        if len(totals) >= selectors.MIN_CELL:
            lines.append(_("%(round)s: %(n)d families recorded, median income %(median)s per "
                           "month.") % {"round": rnd.name, "n": len(totals),
                                        "median": rupiah(statistics.median(totals))})
        else:
            lines.append(_("%(round)s: %(n)d families recorded.")
                         % {"round": rnd.name, "n": len(totals)})
    rows = []
    if len(rounds) >= 2:
        baseline, followup = rounds[-2], rounds[-1]
        kinds = (GroupMember.objects.filter(village_in_q("person__village_code", region_code))
                 .values("group__kind").annotate(n=Count("id")).order_by("-n")
                 [:BRIEF_KINDS_MAX])
        th = analysis.Thresholds.from_settings()
        for row in kinds:
            kind = GroupKind.objects.get(pk=row["group__kind"])
            subject = selectors.Subject("kind", region_code, kind.name, group_kind=kind)
            try:
                data = selectors.impact_data(rounds, subject, baseline, followup)
                result = analysis.analyse(data.panel, th)
            except Exception:  # one kind's analysis must never break the brief
                logger.exception("monitoring: brief analysis of %s in %s", kind.pk,
                                 region_code)
                continue
            m = result.main
            # No figure where the data carries no conclusion (and no small cells).
            effect = (f"{rupiah(m.effect)} ({rupiah(m.lower)} – {rupiah(m.upper)})"
                      if m is not None and math.isfinite(m.effect)
                      and result.verdict != analysis.NOT_ENOUGH else "—")
            rows.append([kind.name, str(result.members_total), str(VERDICT_LABELS[
                result.verdict]), effect])
        if rows:
            lines.append(_("Effect of joining on a family's monthly income, %(a)s to %(b)s, "
                           "against similar families that never joined:")
                         % {"a": baseline.name, "b": followup.name})
    return {"title": _("Monitoring: did joining raise income?"), "lines": lines,
            "headers": [_("Group kind"), _("Member families that joined"), _("Verdict"),
                        _("Rp per month (95-percent interval)")], "rows": rows}
