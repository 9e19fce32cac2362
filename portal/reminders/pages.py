"""The rules pages, one set per scope, registered by each area on its own blueprint (register_rule_pages), so every
request passes that area's gate first; and the opt-out page a reminder's link opens, without logging in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from portal.db import db_session, end_refused, utcnow, writes
from portal.errors import DomainError, NotFound
from portal.forms import ConfirmForm, choices, number
from portal.i18n import SUPPORTED_LOCALES, current_locale
from portal.reminders import optout, rules
from portal.reminders.kinds import AFTER, BEFORE, KINDS, ReminderKind, kinds_of_scope
from portal.reminders.models import ReminderRule
from portal.reminders.templates import rule_texts

UNITS = {"minutes": 1, "hours": 60, "days": 1440}
UNIT_LABELS = {"minutes": _l("minutes"), "hours": _l("hours"), "days": _l("days")}


class RuleForm(FlaskForm):
    audience = SelectField(_l("To whom"))
    amount = number(_l("How long"), 0, 100_000)
    unit = SelectField(_l("Unit"), choices=choices(UNIT_LABELS.items()))
    direction = SelectField(_l("Before or after the moment"),
                            choices=choices([(BEFORE, _l("before")), (AFTER, _l("after"))]))
    late_amount = number(_l("If the portal was down when it fell due, still send it up to"), 0, 100_000)
    late_unit = SelectField(_l("Unit of the late window"), choices=choices(UNIT_LABELS.items()))
    active = BooleanField(_l("On"), default=True)
    subject_vi = StringField(_l("Subject (Vietnamese)"))
    body_vi = TextAreaField(_l("Message (Vietnamese)"))
    subject_en = StringField(_l("Subject (English)"))
    body_en = TextAreaField(_l("Message (English)"))

    def prepare(self, kind: ReminderKind) -> None:
        """What a rule of `kind` can be (the kind is chosen before the form opens, and a rule keeps its own)."""
        self.audience.choices = choices(kind.audiences.items())
        self.direction.choices = [choice for choice in self.direction.choices if choice.value in kind.directions]

    def fill_from(self, rule: ReminderRule, kind: ReminderKind) -> None:
        """The rule as the form shows it: the largest unit that divides the offset, the default texts written out."""
        self.audience.data, self.active.data = rule.audience, rule.active
        self.direction.data = BEFORE if rule.offset_minutes < 0 else AFTER
        self.amount.data, self.unit.data = _in_units(abs(rule.offset_minutes))
        self.late_amount.data, self.late_unit.data = _in_units(rule.late_minutes)
        for locale in SUPPORTED_LOCALES:
            with force_locale(locale):
                self[f"subject_{locale}"].data, self[f"body_{locale}"].data = rule_texts(rule, kind, locale)

    def change(self, kind: ReminderKind) -> rules.RuleChange:
        return rules.RuleChange(
            kind=kind.name, audience=self.audience.data, direction=self.direction.data,
            amount=self.amount.data, unit_minutes=UNITS[self.unit.data], late_amount=self.late_amount.data,
            late_unit_minutes=UNITS[self.late_unit.data], active=self.active.data,
            texts={name: self[name].data or "" for name in rules.TEXT_FIELDS})


def _in_units(minutes: int) -> tuple[int, str]:
    for unit in ("days", "hours"):
        if minutes and minutes % UNITS[unit] == 0:
            return minutes // UNITS[unit], unit
    return minutes, "minutes"


def offset_text(rule: ReminderRule) -> str:
    amount, unit = _in_units(abs(rule.offset_minutes))
    counted = {"days": ngettext("%(num)d day", "%(num)d days", amount),
               "hours": ngettext("%(num)d hour", "%(num)d hours", amount),
               "minutes": ngettext("%(num)d minute", "%(num)d minutes", amount)}[unit]
    return _("%(amount)s before", amount=counted) if rule.offset_minutes < 0 else _("%(amount)s after",
                                                                                      amount=counted)


@dataclass(frozen=True)
class Scope:
    """What the rule pages of one event, call or the mentoring network are about, given by the area's blueprint."""

    scope_id: int | None
    #: the values the area's URLs need (event_id=…), and a heading for the pages
    url_values: dict
    heading: str
    #: what the area's sub-menu (nav_template) reads, such as the event
    context: dict = field(default_factory=dict)


def register_rule_pages(bp: Blueprint, scope: str, prefix: str, scope_of: Callable[..., Scope],
                        nav_template: str | None = None) -> None:
    """The list, the new-rule and the rule pages of `scope` under `prefix` on `bp`, behind its gate. `scope_of`
    takes the view's URL values and gives the Scope (404 when it does not exist)."""
    name = f"{scope}_reminder_rule"  # one blueprint may hold the pages of two scopes (a call's, a programme's)
    endpoint = f"{bp.name}.{name}s"

    def urls(found: Scope) -> dict:
        return {"list": url_for(endpoint, **found.url_values),
                "new": lambda kind: url_for(f"{bp.name}.{name}_new", kind=kind, **found.url_values),
                "rule": lambda rule_id: url_for(f"{bp.name}.{name}", rule_id=rule_id, **found.url_values),
                "delete": lambda rule_id: url_for(f"{bp.name}.{name}_delete", rule_id=rule_id,
                                                  **found.url_values)}

    def listing(**values):
        found = scope_of(**values)
        return render_template("reminders/rules.html", scope=found, rules=rules.rules_of(db_session(), scope,
                               found.scope_id), kinds=KINDS, scope_kinds=kinds_of_scope(scope),
                               offset_text=offset_text, urls=urls(found),
                               nav_template=nav_template, **found.context)

    def edit(rule_id: int | None = None, **values):
        found = scope_of(**values)
        db = db_session()
        rule = None if rule_id is None else _rule_or_404(found, rule_id)
        kind = KINDS[rule.kind] if rule else KINDS.get(request.args.get("kind", ""))
        if kind is None or kind.scope != scope:
            abort(404)
        form = RuleForm()
        form.prepare(kind)
        if request.method == "GET":  # a new rule starts as the kind's first default
            default = kind.defaults[0]
            form.fill_from(rule or ReminderRule(
                kind=kind.name, audience=default.audience, active=True,
                offset_minutes=int(default.offset.total_seconds() // 60),
                late_minutes=int(default.late.total_seconds() // 60)), kind)
        context = {"scope": found, "rule": rule, "urls": urls(found), "nav_template": nav_template, "kind": kind,
                   "preview": None, **found.context}
        if request.method == "POST" and form.validate_on_submit():
            change = form.change(kind)
            try:
                if request.form.get("action") == "preview":
                    rules.check_change(change)
                    context["preview"] = rules.preview(db, kind, found.scope_id, change.texts,
                                                       current_locale())
                else:
                    rules.save_rule(db, current_user.id, found.scope_id, rule, change, utcnow())
                    flash(_("The reminder rule is saved."), "success")
                    return redirect(url_for(endpoint, **found.url_values), 303)
            except DomainError as error:
                end_refused(db)
                field = getattr(error, "field", None)
                if field in form:
                    form[field].errors = [*form[field].errors, str(error.message)]
                else:
                    flash(str(error.message), "error")
                return render_template("reminders/rule_form.html", form=form, **context), error.status_code
        return render_template("reminders/rule_form.html", form=form, **context), 400 if form.errors else 200

    def delete(rule_id: int, **values):
        found = scope_of(**values)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        db = db_session()
        rules.delete_rule(db, current_user.id, _rule_or_404(found, rule_id))
        flash(_("The reminder rule is deleted."), "success")
        return redirect(url_for(endpoint, **found.url_values), 303)

    def _rule_or_404(found: Scope, rule_id: int) -> ReminderRule:
        try:
            return rules.rule_of(db_session(), scope, found.scope_id, rule_id)
        except NotFound:
            abort(404)

    bp.add_url_rule(prefix, f"{name}s", listing)
    bp.add_url_rule(f"{prefix}/new", f"{name}_new", edit, methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/<int:rule_id>", name, edit, methods=["GET", "POST"])
    bp.add_url_rule(f"{prefix}/<int:rule_id>/delete", f"{name}_delete", delete, methods=["POST"])


# --- opting out from a reminder's link --------------------------------------------------------------------------

bp = Blueprint("reminders", __name__)


@bp.route("/reminders/stop/<token>", methods=["GET", "POST"])
@writes
def opt_out(token: str):
    """The link in every reminder: no login (a ticket holder may have no account). The page asks for one click, so a
    mail scanner that opens links stops nothing; the signed token is the permission."""
    # RFC 8058: a mail client's one-click unsubscribe POSTs this body, without our page's CSRF token; the signed
    # token is the permission, and stopping reminders is all it can do. Any other POST shows our token first.
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and not one_click and not ConfirmForm().validate_on_submit():
        abort(400)
    db = db_session()
    try:
        email, kind = optout.read_opt_out_token(token)
    except optout.InvalidOptOutLink as refused:
        return render_template("reminders/opt_out.html", invalid=refused.message), 403
    stopped = kind in optout.opted_out_kinds(db, email)
    if request.method == "POST":
        if request.form.get("action") == "resume" and not one_click:
            optout.set_opt_outs(db, email, optout.opted_out_kinds(db, email) - {kind})
            stopped = False
        else:
            optout.opt_out(db, email, kind)
            stopped = True
    return render_template("reminders/opt_out.html", invalid=None, kind=KINDS[kind], email=email, stopped=stopped)


@bp.route("/account/reminders", methods=["GET", "POST"])
@login_required
def account_reminders():
    """Which kinds of reminder the person gets: every kind is on until they turn it off here or from a reminder."""
    db = db_session()
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        wanted = set(request.form.getlist("kind"))
        optout.set_opt_outs(db, current_user.email, set(KINDS) - wanted)
        flash(_("Your choice has been saved."), "success")
        return redirect(url_for("reminders.account_reminders"))
    return render_template("reminders/account.html", kinds=KINDS.values(),
                           stopped=optout.opted_out_kinds(db, current_user.email))
