"""What a reviewer can't see in a plan, as warnings: titles that look the same,
characters that show nothing (DESIGN section 2), and text not in Unicode's composed form
(NFC: 'e' + U+0301 looks like 'é' and is other text, another URL). The config checks say
the same at each position; a plan says it too, so a pull request's comment shows it
(renderers escape the invisible characters themselves: ``model.visible``)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.config.confusables import skeleton
from reconciler.config.rules import all_composed, look_alike_titles, uncomposed
from reconciler.errors import Severity
from reconciler.model import DesiredChannel, code_point, has_invisible, invisible
from reconciler.plan.values import Action, Change, Diagnostic, Resource

#: The edits whose text before and after is shown side by side.
_EDITS = (Action.UPDATE, Action.REGENERATE, Action.RENAME)


def unseen_differences(account: str, dc: DesiredChannel) -> list[Diagnostic]:
    """Warnings for what a reviewer can't see: titles of the channel that look the same
    (``look_alike_titles``: VIP Program and VIP Pr\\u043egram) and characters that show
    nothing in a title, message or display name (``invisible``; renderers escape them)."""
    titles = [link.title for link in dc.links]
    messages = [link.message for link in dc.links]
    diags: list[Diagnostic] = []

    def warn(code: str, message: str) -> None:
        diags.append(
            Diagnostic(severity=Severity.WARNING, code=code, channel=account, message=message)
        )

    for group in look_alike_titles(titles):
        others = [titles[i] for i in group[1:]]
        different = sorted({c for t in others for c in t} - set(titles[group[0]]))
        differ = ", ".join(code_point(c) for c in different[:3])
        warn(
            "look-alike-title",
            f"titles {', '.join(repr(titles[i]) for i in group)} look the same"
            + (f" (they differ in {differ})" if different else ""),
        )
    composed = all_composed([dc.display_name or "", *titles, *messages])
    if composed and not has_invisible("".join([dc.display_name or "", *titles, *messages])):
        return diags  # the common case, told in one search per channel
    texts = [("display name", dc.display_name or "")]
    texts += [(f"link {link.title!r}", link.title) for link in dc.links]
    texts += [(f"the message of {link.title!r}", link.message) for link in dc.links]
    for what, text in [] if composed else texts:
        changed = uncomposed(text)
        if changed:
            warn(
                "not-composed",
                f"{what} is not in Unicode's composed form (NFC): "
                + ", ".join(code_point(c) for c in changed[:5])
                + "; it looks the same as the composed text but is other text (another "
                "title to match, another URL)",
            )
    for what, text in texts:
        hidden = sorted({c for _, c in invisible(text)})
        if hidden:
            warn(
                "invisible-character",
                f"{what} has characters that show nothing (shown escaped): "
                + ", ".join(code_point(c) for c in hidden[:5]),
            )
    return diags


def unseen_changes(account: str, changes: Sequence[Change]) -> list[Diagnostic]:
    """A warning for each edit of ``changes`` whose text before and after look the same
    (one confusable skeleton: a Latin letter for a Cyrillic one, an 'é' decomposed), which
    the plan would show as 'update "Sale" -> "Sale"' (a Cyrillic S) with nothing to see, naming the
    characters that differ."""
    diags: list[Diagnostic] = []
    for change in changes:
        if change.action not in _EDITS:
            continue
        for field in change.fields:
            old = getattr(change.before, field, None)
            new = getattr(change.after, field, None)
            if not (isinstance(old, str) and isinstance(new, str)) or old == new:
                continue
            if skeleton(old) != skeleton(new):
                continue
            of = (
                f"link {change.title!r}"
                if change.resource is Resource.LINK
                else f"channel {account}"
            )
            differ = ", ".join(code_point(c) for c in sorted(set(old) ^ set(new))[:4])
            diags.append(
                Diagnostic(
                    severity=Severity.WARNING,
                    code="look-alike-change",
                    channel=account,
                    message=f"the {field.replace('_', ' ')} of {of} changes from {old!r} to "
                    f"{new!r}, which look the same (they differ in {differ or 'their order'})",
                )
            )
    return diags
