from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import consents as consent_service
from portal.accounts import services
from portal.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConsentForm,
    EmailOnlyForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from portal.accounts.models import TokenPurpose
from portal.db import db_session, end_refused, keep_refused_writes, writes
from portal.errors import DomainError
from portal.extensions import limiter
from portal.forms import ConfirmForm
from portal.i18n import LOCALE_COOKIE, current_locale, normalise_locale
from portal.web import client_ip, onward_path, render_domain_error, render_form, safe_next

bp = Blueprint("accounts", __name__)

#: password guesses from one address, refused or not
GUESSES_PER_CLIENT = "30 per minute"
#: refused password guesses at one account
GUESSES_PER_ACCOUNT = "5 per minute;20 per hour"


def _login_account_key() -> str:
    return "login:" + services.normalise_email(request.form.get("email", ""))


def _failed(response) -> bool:
    return response.status_code != 302


# The account page's forms that ask for the current password (a new password, a new e-mail address) draw on one
# budget of guesses, per account and per address, counted as the login counts them: a stolen session must not
# become an unthrottled way to find the password.
_current_password_per_client = limiter.shared_limit(GUESSES_PER_CLIENT, scope="current-password",
                                                    methods=["POST"])
_current_password_per_account = limiter.shared_limit(
    GUESSES_PER_ACCOUNT, scope="current-password-account", methods=["POST"],
    key_func=lambda: f"current-password:{current_user.id}", deduct_when=_failed,
)


def _already_logged_in():
    """Sends a logged-in visitor on, to where they were going; a post without a valid CSRF token is refused here as
    on every form."""
    if request.method == "POST" and not ConfirmForm().validate_on_submit():
        abort(400)
    return redirect(safe_next(request.args.get("next"), url_for("core.dashboard")))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return _already_logged_in()
    form = SignupForm(locale=current_locale())
    if form.validate_on_submit():
        db = db_session()
        try:
            services.register(
                db, email=form.email.data, full_name=form.full_name.data, password=form.password.data,
                locale=form.locale.data, consents=form.consent_decisions(),
                startup_name=form.startup_name.data, ip_address=client_ip(),
                # where they were going (a ticket form, an invitation): the confirmation link leads on there
                onward=onward_path(request.args.get("next")),
            )
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "accounts/signup.html", form=form,
                                       purposes=consent_service.PURPOSES)
        return redirect(url_for("accounts.check_inbox"))
    return render_form("accounts/signup.html", form, purposes=consent_service.PURPOSES)


@bp.route("/signup/check-inbox")
def check_inbox():
    return render_template("accounts/check_inbox.html", resend_form=EmailOnlyForm())


@bp.route("/verify/<token>")
@writes
def verify_email(token: str):
    db = db_session()
    try:
        onward = services.verify_email(db, token)
    except DomainError as error:
        end_refused(db)
        return render_template("accounts/link_invalid.html", message=error.message,
                               resend_form=EmailOnlyForm()), error.status_code
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("accounts.login", next=onward_path(onward)))


@bp.route("/verify/resend", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"])
def resend_verification():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        db = db_session()
        services.resend_verification(db, form.email.data)
        return redirect(url_for("accounts.check_inbox"))
    return render_form("accounts/check_inbox.html", form, resend_form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(GUESSES_PER_CLIENT, methods=["POST"])
@limiter.limit(GUESSES_PER_ACCOUNT, methods=["POST"], key_func=_login_account_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return _already_logged_in()
    form = LoginForm()
    if form.validate_on_submit():
        db = db_session()
        try:
            user = services.authenticate(db, form.email.data, form.password.data, ip_address=client_ip())
        except DomainError as error:
            keep_refused_writes()  # the audit entry of the failed attempt
            return render_domain_error(error, "accounts/login.html", form=form,
                                       resend_form=EmailOnlyForm(email=form.email.data))
        services.start_session(db, user, remember=form.remember.data, ip_address=client_ip(),
                                       user_agent=request.user_agent.string)
        session.clear()  # a fresh session at login: nothing from before survives
        login_user(user, remember=form.remember.data)
        session.permanent = form.remember.data
        return redirect(safe_next(request.args.get("next"), url_for("core.dashboard")))
    return render_form("accounts/login.html", form)


@bp.route("/logout", methods=["POST"])
def logout():
    if ConfirmForm().validate_on_submit() and current_user.is_authenticated:
        db = db_session()
        services.end_session(db, current_user.get_id())
        logout_user()
        session.clear()
        flash(_("You have logged out."), "success")
        return redirect(url_for("core.home"))
    abort(400)


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = db_session()
    services.end_all_sessions(db, current_user)
    logout_user()
    session.clear()
    flash(_("You have logged out on every device."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        db = db_session()
        services.request_password_reset(db, form.email.data, locale=current_locale(), ip_address=client_ip())
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_form("accounts/forgot_password.html", form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    db = db_session()
    try:
        services.peek_token(db, token, TokenPurpose.RESET_PASSWORD)
    except DomainError as error:
        return render_template("accounts/link_invalid.html", message=error.message, reset=True), error.status_code
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db, token, form.password.data, ip_address=client_ip())
        except DomainError as error:
            end_refused(db)
            return render_domain_error(error, "accounts/reset_password.html", form=form)
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_form("accounts/reset_password.html", form)


@bp.route("/language/<code>")
@writes
def switch_language(code: str):
    locale = normalise_locale(code)
    if locale is None:
        abort(404)
    target = safe_next(request.args.get("next"), url_for("core.home"))
    response = make_response(redirect(target))
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    if current_user.is_authenticated and current_user.locale != locale:
        current_user.locale = locale  # saved as the request ends (db.end_request): a @writes view
    return response


# --- the account's own pages ----------------------------------------------------------------

def _account_page(forms: dict, status: int = 200):
    db = db_session()
    page_forms = {
        "profile_form": ProfileForm(obj=current_user, formdata=None),
        "password_form": ChangePasswordForm(formdata=None),
        "email_form": ChangeEmailForm(formdata=None),
    }
    page_forms.update(forms)
    return render_template(
        "accounts/account.html", sessions=services.active_sessions(db, current_user), **page_forms,
    ), status


@bp.route("/account")
@login_required
def account():
    return _account_page({})


@bp.route("/account/profile", methods=["POST"])
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page({"profile_form": form}, 400)
    db = db_session()
    services.update_profile(db, current_user, full_name=form.full_name.data, phone=form.phone.data,
                            locale=form.locale.data)
    flash(_("Your profile has been saved."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["POST"])
@login_required
@_current_password_per_client
@_current_password_per_account
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page({"password_form": form}, 400)
    db = db_session()
    try:
        services.change_password(db, current_user, form.current_password.data, form.password.data)
    except DomainError as error:
        end_refused(db)
        form.current_password.errors.append(str(error.message))
        return _account_page({"password_form": form}, error.status_code if error.status_code != 401 else 400)
    flash(_("Your password has been changed. Other devices have been logged out."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/email", methods=["POST"])
@login_required
@_current_password_per_client
@_current_password_per_account
def change_email():
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return _account_page({"email_form": form}, 400)
    db = db_session()
    try:
        services.request_email_change(db, current_user, form.current_password.data, form.email.data)
    except DomainError as error:
        end_refused(db)
        form.email.errors.append(str(error.message))
        return _account_page({"email_form": form}, 400)
    flash(_("We sent a confirmation link to %(email)s. Your address changes when you open it.",
            email=services.normalise_email(form.email.data)), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/email/confirm/<token>")
@writes
def confirm_email_change(token: str):
    db = db_session()
    try:
        services.confirm_email_change(db, token)
    except DomainError as error:
        end_refused(db)
        return render_template("accounts/link_invalid.html", message=error.message), error.status_code
    flash(_("Your e-mail address has been changed."), "success")
    return redirect(url_for("accounts.account") if current_user.is_authenticated else url_for("accounts.login"))


@bp.route("/account/consents", methods=["GET", "POST"])
@login_required
def consents():
    db = db_session()
    form = ConsentForm()
    if request.method == "POST":
        purpose = consent_service.PURPOSES_BY_KEY.get(form.purpose.data or "")
        if not form.validate_on_submit() or purpose is None or purpose.required:
            abort(400)
        granted = form.granted.data == "1"
        consent_service.set_consent(db, current_user, purpose.key, granted, ip_address=client_ip())
        flash(_("Your choice has been saved.") if granted else _("Your consent has been withdrawn."), "success")
        return redirect(url_for("accounts.consents"))
    return render_template("accounts/consents.html", purposes=consent_service.PURPOSES,
                           decisions=consent_service.current_consents(db, current_user), form=form)
