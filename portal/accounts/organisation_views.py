"""Organisations (startups, companies, universities): members see them, owners manage them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import services
from portal.accounts.forms import (
    ORGANISATION_KINDS,
    STARTUP_STAGES,
    AddMemberForm,
    NewOrganisationForm,
    OrganisationForm,
    StartupProfileForm,
)
from portal.accounts.models import OrganisationKind, StartupStage
from portal.db import db_session
from portal.errors import DomainError
from portal.web import button_action, render_domain_error, render_form

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
        db.commit()
        flash(_("The organisation has been created."), "success")
        return redirect(url_for("orgs.edit", org_id=org.id))
    return render_form("orgs/new.html", form)


@bp.route("/<int:org_id>")
@login_required
def show(org_id: int):
    org = _load(org_id)
    return render_template("orgs/show.html", org=org, can_manage=services.can_manage_organisation(current_user, org),
                           member_form=AddMemberForm(formdata=None))


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
        db.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("orgs.show", org_id=org.id))
    return render_form("orgs/edit.html", form, org=org)


@bp.route("/<int:org_id>/members", methods=["POST"])
@login_required
def add_member(org_id: int):
    org = _load(org_id, manage=True)
    form = AddMemberForm()
    context = {"org": org, "can_manage": True, "member_form": form}
    if not form.validate_on_submit():
        return render_template("orgs/show.html", **context), 400
    db = db_session()
    try:
        services.add_member(db, current_user, org, form.email.data)
    except DomainError as error:
        db.rollback()
        return render_domain_error(error, "orgs/show.html", **context)
    db.commit()
    flash(_("The member has been added."), "success")
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.route("/<int:org_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_member(org_id: int, user_id: int):
    org = _load(org_id, manage=True)

    def run(db):
        services.remove_member(db, current_user, org, user_id)
        return _("The member has been removed.")

    return button_action(run, back=url_for("orgs.show", org_id=org.id))
