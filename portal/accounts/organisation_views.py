"""Organisations (startups, companies, universities): members see them, owners manage them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from portal.accounts import services
from portal.accounts.forms import (
    ORGANISATION_KINDS,
    STARTUP_STAGES,
    InviteMemberForm,
    NewOrganisationForm,
    OrganisationForm,
    StartupProfileForm,
)
from portal.accounts.models import OrganisationKind, StartupStage
from portal.db import db_session, end_refused
from portal.errors import DomainError
from portal.extensions import limiter
from portal.i18n import current_locale
from portal.web import button_action, client_ip, render_form

bp = Blueprint("orgs", __name__, url_prefix="/organisations")


@bp.context_processor
def _labels():
    return {"kind_labels": dict(ORGANISATION_KINDS), "stage_labels": dict(STARTUP_STAGES)}


def _load(org_id: int, *, manage: bool = False):
    try:
        return services.get_organisation_for(db_session(), current_user, org_id, manage=manage)
    except DomainError as error:
        abort(error.status_code)


@bp.route("/")
@login_required
def index():
    return render_template("orgs/index.html", organisations=services.user_organisations(db_session(), current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    form = NewOrganisationForm()
    if form.validate_on_submit():
        db = db_session()
        org = services.create_organisation(db, current_user, name=form.name.data,
                                           kind=OrganisationKind(form.kind.data), website=form.website.data)
        flash(_("The organisation has been created."), "success")
        return redirect(url_for("orgs.edit", org_id=org.id))
    return render_form("orgs/new.html", form)


def _show_page(org, member_form, status: int = 200):
    db = db_session()
    can_manage = services.can_manage_organisation(current_user, org)
    return render_template("orgs/show.html", org=org, can_manage=can_manage, member_form=member_form,
                           invitations=services.pending_invitations(db, org) if can_manage else []), status


@bp.route("/<int:org_id>")
@login_required
def show(org_id: int):
    return _show_page(_load(org_id), InviteMemberForm(formdata=None))


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit(org_id: int):
    org = _load(org_id, manage=True)
    profile = org.startup_profile
    form_class = StartupProfileForm if profile is not None else OrganisationForm
    form = form_class(obj=org) if profile is None else form_class(
        name=org.name, website=org.website, tax_code=org.tax_code, sector=profile.sector, stage=profile.stage.value,
        founded_on=profile.founded_on, team_size=profile.team_size,
        description_vi=profile.description_vi, description_en=profile.description_en,
    )
    if form.validate_on_submit():
        db = db_session()
        extra = {}
        if profile is not None:
            extra = {
                "sector": form.sector.data, "stage": StartupStage(form.stage.data), "founded_on": form.founded_on.data,
                "team_size": form.team_size.data, "description_vi": form.description_vi.data or "",
                "description_en": form.description_en.data or "",
            }
        services.update_organisation(db, current_user, org, name=form.name.data, website=form.website.data,
                                     tax_code=form.tax_code.data or "", **extra)
        flash(_("Saved."), "success")
        return redirect(url_for("orgs.show", org_id=org.id))
    return render_form("orgs/edit.html", form, org=org)


def _inviter_key() -> str:
    """Invitations are counted per inviting account; visitors are sent to log in before any is sent."""
    return f"invite:{current_user.id}" if current_user.is_authenticated else "invite:" + get_remote_address()


@bp.route("/<int:org_id>/invitations", methods=["POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"], key_func=_inviter_key)
def invite(org_id: int):
    org = _load(org_id, manage=True)
    form = InviteMemberForm()
    if not form.validate_on_submit():
        return _show_page(org, form, 400)
    db = db_session()
    try:
        services.invite_member(db, current_user, org, form.email.data, locale=current_locale(),
                               ip_address=client_ip())
    except DomainError as error:
        end_refused(db)
        flash(str(error.message), "error")
        return _show_page(org, form, error.status_code)
    flash(_("If %(email)s can receive mail, we have sent an invitation to it. The person joins when they accept "
            "it; the invitation is valid for %(days)d days.", email=services.normalise_email(form.email.data),
            days=services.INVITATION_LIFETIME.days), "success")
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.route("/<int:org_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(org_id: int, invitation_id: int):
    org = _load(org_id, manage=True)

    def run(db):
        email = services.revoke_invitation(db, current_user, org, invitation_id)
        return _("The invitation to %(email)s has been withdrawn.", email=email)

    return button_action(run, back=url_for("orgs.show", org_id=org.id))


@bp.route("/invitations/<token>")
def invitation(token: str):
    """The link in the invitation mail: visitors are asked to log in or sign up with the invited address first."""
    try:
        found = services.open_invitation(db_session(), token)
    except DomainError as error:
        return render_template("orgs/invitation.html", invitation=None, message=error.message), error.status_code
    may_answer = current_user.is_authenticated and services.may_answer(current_user, found)
    return render_template("orgs/invitation.html", invitation=found, token=token, may_answer=may_answer)


@bp.route("/invitations/<token>/accept", methods=["POST"])
@login_required
def accept_invitation(token: str):
    def accept(db):
        org = services.accept_invitation(db, current_user, token)
        return _("Welcome to %(name)s: you are now a member.", name=org.name)

    return button_action(accept, back=url_for("orgs.index"))


@bp.route("/invitations/<token>/decline", methods=["POST"])
@login_required
def decline_invitation(token: str):
    def decline(db):
        org = services.decline_invitation(db, current_user, token)
        return _("You have declined the invitation to join %(name)s.", name=org.name)

    return button_action(decline, back=url_for("orgs.index"))


@bp.route("/<int:org_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_member(org_id: int, user_id: int):
    org = _load(org_id, manage=True)

    def run(db):
        services.remove_member(db, current_user, org, user_id)
        return _("The member has been removed.")

    return button_action(run, back=url_for("orgs.show", org_id=org.id))
