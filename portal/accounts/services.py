"""Accounts: sign-up, verification, sessions, passwords, e-mail changes, roles, organisations."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload, noload, selectinload

from portal.accounts.consents import record_consents
from portal.accounts.models import (
    AuthSession,
    AuthToken,
    InvitationStatus,
    Organisation,
    OrganisationInvitation,
    OrganisationKind,
    OrganisationMember,
    Role,
    StartupProfile,
    StartupStage,
    TokenPurpose,
    User,
    UserRole,
)
from portal.audit.services import record
from portal.db import utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.notifications.services import absolute_url, queue_mail
from portal.security import new_token, token_digest

MIN_PASSWORD_LENGTH = 10
TOKEN_LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=48),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
    TokenPurpose.CHANGE_EMAIL: timedelta(hours=24),
}
#: how long an invitation to join an organisation can be accepted
INVITATION_LIFETIME = timedelta(days=7)
SESSION_LIFETIME = timedelta(hours=12)
REMEMBERED_SESSION_LIFETIME = timedelta(days=30)
#: last_seen_at is written at most this often, so page views stay read-only
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)

_hasher = PasswordHasher()


class InvalidCredentials(DomainError):
    status_code = 401
    default_message = _l("The e-mail or password is not correct.")


class EmailNotVerified(DomainError):
    status_code = 403
    default_message = _l("Please confirm your e-mail address first: open the link we sent you.")


class InvalidLink(DomainError):
    status_code = 400
    default_message = _l("This link is invalid, has expired or has already been used. Request a new one.")


class WeakPassword(DomainError):
    pass


# --- passwords ------------------------------------------------------------------------------

@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is refused, in the user's language, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if lowered in _common_passwords():
        return str(_l("This password is too common; choose another."))
    if email and lowered == email.lower():
        return str(_l("The password must not be your e-mail address."))
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def _require_strong(password: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise WeakPassword(problem)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


# --- single-use links -----------------------------------------------------------------------

def credentials_fingerprint(user: User) -> str:
    """What a mailed link is bound to. A link proves control of the mailbox at the time it was sent; once the
    password or the address changes, by a reset, a change or any other way, every link issued before means
    nothing, so an older reset link left in a mailbox cannot take the account back."""
    return token_digest(f"{user.id}\0{user.email}\0{user.password_hash}")


def issue_token(session: Session, user: User, purpose: TokenPurpose, payload: str | None = None) -> str:
    raw = new_token()
    session.add(AuthToken(
        user=user, purpose=purpose, token_hash=token_digest(raw), payload=payload,
        credentials=credentials_fingerprint(user), expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
    ))
    session.flush()
    return raw


def consume_token(session: Session, raw: str, purpose: TokenPurpose) -> AuthToken:
    token = peek_token(session, raw, purpose)
    # The conditional update makes the link single-use even when two requests race.
    used = session.execute(
        update(AuthToken).where(AuthToken.id == token.id, AuthToken.used_at.is_(None)).values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise InvalidLink()
    return token


def peek_token(session: Session, raw: str, purpose: TokenPurpose) -> AuthToken:
    """Checks a link without using it up (to show the reset form)."""
    token = session.scalar(
        select(AuthToken).options(joinedload(AuthToken.user))
        .where(AuthToken.token_hash == token_digest(raw), AuthToken.purpose == purpose)
    )
    if (token is None or token.used_at is not None or token.expires_at <= utcnow()
            or token.credentials != credentials_fingerprint(token.user)):
        raise InvalidLink()
    return token


# --- sign-up and verification ---------------------------------------------------------------

def _mail_link(
    session: Session, user: User, purpose: TokenPurpose, *, endpoint: str, template: str, subject,
    to: str | None = None, payload: str | None = None, **context,
) -> None:
    """Issues a single-use link and queues the mail carrying it, in the user's language."""
    raw = issue_token(session, user, purpose, payload=payload)
    queue_mail(
        session,
        key=f"{purpose.value}:{user.id}:{token_digest(raw)[:16]}",
        to=to or user.email,
        locale=user.locale,
        template=template,
        subject=subject,
        user=user,
        link=absolute_url(endpoint, token=raw),
        **context,
    )


#: the longest onward page a confirmation link carries (AuthToken.payload); no page of the portal needs more
ONWARD_MAX_LENGTH = 254


def send_verification(session: Session, user: User, onward: str | None = None) -> None:
    """Mails the confirmation link. `onward` is the page the person was going to when they signed up (a path on
    this site, checked by the caller): kept with the link, so opening it on another device still leads there."""
    _mail_link(session, user, TokenPurpose.VERIFY_EMAIL, endpoint="accounts.verify_email",
               template="verify_email", subject=_l("Confirm your e-mail address"),
               payload=onward if onward and len(onward) <= ONWARD_MAX_LENGTH else None)


def register(
    session: Session,
    *,
    email: str,
    full_name: str,
    password: str,
    locale: str,
    consents: dict[str, bool],
    startup_name: str | None = None,
    ip_address: str | None = None,
    onward: str | None = None,
) -> User | None:
    """Creates an unverified account and mails the confirmation link, which leads on to `onward` (send_verification).

    A taken address gets the same answer on screen; its owner is told by e-mail instead,
    so the form cannot be used to find out who has an account.
    """
    email = normalise_email(email)
    _require_strong(password, email)
    existing = find_user_by_email(session, email)
    if existing is not None:
        hash_password(password)  # the same work as a new account, so timing does not reveal who is registered
        queue_mail(
            session,
            key=f"signup-existing:{existing.id}:{utcnow():%Y%m%d%H}",
            to=existing.email,
            locale=existing.locale,
            template="signup_existing",
            subject=_l("Someone tried to sign up with your e-mail address"),
            user=existing,
            login_link=absolute_url("accounts.login", next=onward),
            reset_link=absolute_url("accounts.forgot_password"),
        )
        record(session, "auth.signup_existing_email", object_type="user", object_id=existing.id,
               ip_address=ip_address)
        return None
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password), locale=locale)
    session.add(user)
    session.flush()
    record_consents(session, user, consents, ip_address=ip_address)
    if startup_name and startup_name.strip():
        create_organisation(session, user, name=startup_name, kind=OrganisationKind.STARTUP)
    record(session, "auth.signup", actor_id=user.id, object_type="user", object_id=user.id,
           ip_address=ip_address)
    send_verification(session, user, onward)
    return user


def verify_email(session: Session, raw: str) -> str | None:
    """Confirms the address; returns the page the person was going to when they signed up, if any."""
    token = consume_token(session, raw, TokenPurpose.VERIFY_EMAIL)
    user = token.user
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(session, "auth.email_verified", actor_id=user.id, object_type="user", object_id=user.id)
    return token.payload


def resend_verification(session: Session, email: str) -> None:
    """A new confirmation link, leading on to the same page as the last one."""
    user = find_user_by_email(session, email)
    if user is not None and user.email_verified_at is None:
        onward = session.scalar(
            select(AuthToken.payload).where(AuthToken.user_id == user.id,
                                            AuthToken.purpose == TokenPurpose.VERIFY_EMAIL)
            .order_by(AuthToken.id.desc()).limit(1))
        send_verification(session, user, onward)


# --- login sessions -------------------------------------------------------------------------

def authenticate(session: Session, email: str, password: str, *, ip_address: str | None = None) -> User:
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or not check_password(user, password):
        if user is None:
            _hasher.hash(password)  # same work either way, so timing does not reveal accounts
        record(session, "auth.login_failed", actor_id=user.id if user else None, ip_address=ip_address,
               email=normalise_email(email)[:254])
        raise InvalidCredentials()
    if user.email_verified_at is None:
        raise EmailNotVerified()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(
    session: Session, user: User, *, remember: bool, ip_address: str | None = None, user_agent: str | None = None
) -> str:
    raw = new_token()
    now = utcnow()
    session.add(AuthSession(
        user_id=user.id, token_hash=token_digest(raw), remember=remember, ip_address=ip_address,
        user_agent=(user_agent or "")[:255], last_seen_at=now,
        expires_at=now + (REMEMBERED_SESSION_LIFETIME if remember else SESSION_LIFETIME),
    ))
    user.last_login_at = now
    record(session, "auth.login", actor_id=user.id, object_type="user", object_id=user.id, ip_address=ip_address)
    user.auth_token = raw
    return raw


#: Every logged-in request runs this: one statement brings the session, its user and the user's roles. Built once,
#: because building it costs more than running it.
_SESSION_WITH_USER = (
    select(AuthSession).options(joinedload(AuthSession.user).joinedload(User.roles))
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def load_session_user(session: Session, raw: str) -> User | None:
    now = utcnow()
    auth = session.scalars(_SESSION_WITH_USER, {"token_hash": token_digest(raw)}).unique().one_or_none()
    if auth is None or auth.revoked_at is not None or auth.expires_at <= now or not auth.user.is_active:
        return None
    user = auth.user
    if now - auth.last_seen_at > SESSION_TOUCH_INTERVAL:
        # End the read first, so the write starts its own transaction (SQLite then waits for the lock).
        session.commit()
        values = {"last_seen_at": now} | ({} if auth.remember else {"expires_at": now + SESSION_LIFETIME})
        session.execute(update(AuthSession).where(AuthSession.id == auth.id).values(**values))
        session.commit()
    user.auth_token = raw
    return user


def end_session(session: Session, raw: str | None) -> None:
    if raw:
        session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_digest(raw), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_sessions(session: Session, user: User, *, keep_token: str | None = None) -> int:
    query = update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
    if keep_token:
        query = query.where(AuthSession.token_hash != token_digest(keep_token))
    ended = session.execute(query.values(revoked_at=utcnow())).rowcount
    record(session, "auth.sessions_ended", actor_id=user.id, object_type="user", object_id=user.id, count=ended)
    return ended


def active_sessions(session: Session, user: User) -> list[tuple[AuthSession, bool]]:
    """The user's logged-in devices, each with whether it is the one asking."""
    current = token_digest(user.auth_token) if user.auth_token else None
    rows = session.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow())
        .order_by(AuthSession.last_seen_at.desc())
    )
    return [(row, row.token_hash == current) for row in rows]


def purge_expired_sessions(session: Session) -> int:
    cutoff = utcnow() - timedelta(days=7)
    return session.execute(delete(AuthSession).where(AuthSession.expires_at < cutoff)).rowcount


# --- passwords and e-mail -------------------------------------------------------------------

def request_password_reset(session: Session, email: str, *, locale: str, ip_address: str | None = None) -> None:
    """Mails a reset link when an active account uses the address, and otherwise a note saying that none does, in
    `locale` (the asker's language). Both answers cost the same work, a mail rendered and queued and an audit entry,
    so neither the page nor the time it takes tells whether the address has an account."""
    email = normalise_email(email)
    # the roles are not needed here, and loading them only for an account would take longer
    user = session.scalar(select(User).options(noload(User.roles)).where(User.email == email))
    if user is not None and user.is_active:
        _mail_link(session, user, TokenPurpose.RESET_PASSWORD, endpoint="accounts.reset_password",
                   template="reset_password", subject=_l("Reset your password"))
        record(session, "auth.password_reset_requested", object_type="user", object_id=user.id,
               ip_address=ip_address)
        return
    queue_mail(
        session,
        # one note an hour per address, however often it is asked for
        key=f"reset-no-account:{token_digest(email)[:16]}:{utcnow():%Y%m%d%H}",
        to=email,
        locale=user.locale if user is not None else locale,
        template="reset_no_account",
        subject=_l("Reset your password"),
        email=email,
        signup_link=absolute_url("accounts.signup"),
    )
    record(session, "auth.password_reset_requested", ip_address=ip_address, email=email)


def reset_password(session: Session, raw: str, new_password: str, *, ip_address: str | None = None) -> User:
    token = peek_token(session, raw, TokenPurpose.RESET_PASSWORD)
    _require_strong(new_password, token.user.email)
    token = consume_token(session, raw, TokenPurpose.RESET_PASSWORD)
    user = token.user
    user.password_hash = hash_password(new_password)
    # Whoever could read the mailbox has proved it; trust the address too.
    user.email_verified_at = user.email_verified_at or utcnow()
    end_all_sessions(session, user)
    record(session, "auth.password_reset", actor_id=user.id, object_type="user", object_id=user.id,
           ip_address=ip_address)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not check_password(user, current):
        raise InvalidCredentials(_l("The current password is not correct."))
    _require_strong(new, user.email)
    user.password_hash = hash_password(new)
    end_all_sessions(session, user, keep_token=user.auth_token)
    record(session, "auth.password_changed", actor_id=user.id, object_type="user", object_id=user.id)


def request_email_change(session: Session, user: User, password: str, new_email: str) -> None:
    if not check_password(user, password):
        raise InvalidCredentials(_l("The current password is not correct."))
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError(_l("This is already your e-mail address."))
    _mail_link(session, user, TokenPurpose.CHANGE_EMAIL, endpoint="accounts.confirm_email_change",
               template="change_email", subject=_l("Confirm your new e-mail address"), to=new_email,
               payload=new_email, new_email=new_email)
    record(session, "auth.email_change_requested", actor_id=user.id, object_type="user", object_id=user.id)


def confirm_email_change(session: Session, raw: str) -> User:
    token = consume_token(session, raw, TokenPurpose.CHANGE_EMAIL)
    user = token.user
    if find_user_by_email(session, token.payload) is not None:
        raise Conflict(_l("This e-mail address is already used by another account."))
    old_email = user.email
    user.email = token.payload
    user.email_verified_at = utcnow()
    queue_mail(
        session,
        key=f"email-changed:{user.id}:{token.id}",
        to=old_email,
        locale=user.locale,
        template="email_changed",
        subject=_l("Your e-mail address was changed"),
        user=user,
        new_email=user.email,
    )
    record(session, "auth.email_changed", actor_id=user.id, object_type="user", object_id=user.id,
           old=old_email, new=user.email)
    return user


def update_profile(session: Session, user: User, *, full_name: str, phone: str | None, locale: str) -> None:
    user.full_name = full_name.strip()
    user.phone = (phone or "").strip() or None
    user.locale = locale


# --- roles ----------------------------------------------------------------------------------

def grant_role(session: Session, admin: User, user: User, role: Role) -> bool:
    if user.has_role(role):
        return False
    user.roles.append(UserRole(role=role, granted_by_id=admin.id))
    record(session, "role.granted", actor_id=admin.id, object_type="user", object_id=user.id, role=role.value)
    return True


def revoke_role(session: Session, admin: User, user: User, role: Role) -> bool:
    if role is Role.ADMIN and user.id == admin.id:
        raise DomainError(_l("You cannot remove your own admin role."))
    held = [r for r in user.roles if r.role == role]
    if not held:
        return False
    for r in held:
        user.roles.remove(r)
    record(session, "role.revoked", actor_id=admin.id, object_type="user", object_id=user.id, role=role.value)
    return True


# --- organisations --------------------------------------------------------------------------

def _sync_startup_role(user: User) -> None:
    """A member of a startup organisation holds the startup role; leaving the last one drops it."""
    in_startup = any(m.organisation.kind is OrganisationKind.STARTUP for m in user.memberships)
    if in_startup and not user.has_role(Role.STARTUP):
        user.roles.append(UserRole(role=Role.STARTUP))
    elif not in_startup:
        for r in [r for r in user.roles if r.role is Role.STARTUP]:
            user.roles.remove(r)


def create_organisation(
    session: Session, owner: User, *, name: str, kind: OrganisationKind, website: str | None = None
) -> Organisation:
    org = Organisation(name=name.strip(), kind=kind, website=website or None)
    org.members.append(OrganisationMember(user=owner, is_owner=True))
    if kind is OrganisationKind.STARTUP:
        org.startup_profile = StartupProfile(sector="", stage=StartupStage.IDEA)
    session.add(org)
    session.flush()
    _sync_startup_role(owner)
    record(session, "organisation.created", actor_id=owner.id, object_type="organisation", object_id=org.id,
           name=org.name, kind=kind.value)
    return org


def user_organisations(session: Session, user: User) -> list[Organisation]:
    return list(session.scalars(
        select(Organisation)
        .join(OrganisationMember)
        .where(OrganisationMember.user_id == user.id)
        .options(joinedload(Organisation.startup_profile))
        .order_by(Organisation.name)
    ))


def get_organisation_for(session: Session, user: User, org_id: int, *, manage: bool = False) -> Organisation:
    """The organisation if `user` may see it (members, admins) or manage it (owners, admins)."""
    org = session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id)
        .options(selectinload(Organisation.members).selectinload(OrganisationMember.user),
                 selectinload(Organisation.startup_profile))
    )
    if org is None:
        raise NotFound()
    is_member = any(m.user_id == user.id for m in org.members)
    allowed = can_manage_organisation(user, org) if manage else (is_member or user.has_role(Role.ADMIN))
    if not allowed:
        raise PermissionDenied()
    return org


def can_manage_organisation(user: User, org: Organisation) -> bool:
    return user.has_role(Role.ADMIN) or any(m.user_id == user.id and m.is_owner for m in org.members)


def update_organisation(
    session: Session,
    actor: User,
    org: Organisation,
    *,
    name: str,
    website: str | None,
    tax_code: str = "",
    sector: str | None = None,
    stage: StartupStage | None = None,
    founded_on: date | None = None,
    team_size: int | None = None,
    description_vi: str = "",
    description_en: str = "",
) -> None:
    org.name = name.strip()
    org.website = website or None
    org.tax_code = tax_code.strip()
    profile = org.startup_profile
    if profile is not None:
        profile.sector = (sector or "").strip()
        profile.stage = stage or profile.stage
        profile.founded_on = founded_on
        profile.team_size = team_size
        profile.description_vi = description_vi.strip()
        profile.description_en = description_en.strip()
    record(session, "organisation.updated", actor_id=actor.id, object_type="organisation", object_id=org.id)


class InvitationGone(InvalidLink):
    default_message = _l("This invitation is no longer valid: it has expired, was withdrawn or was already "
                         "answered. Ask the organisation to invite you again.")


class NotTheInvitee(PermissionDenied):
    default_message = _l("This invitation was sent to another e-mail address. Log in with that address to answer it.")


def invite_member(session: Session, actor: User, org: Organisation, email: str, *, locale: str,
                  ip_address: str | None = None) -> str | None:
    """Mails an invitation to join `org` to the address, whether or not an account uses it: the answer and the work
    are the same either way, so inviting cannot tell who is registered. The mail is in the invitee's language when
    they have an account, otherwise in `locale` (the inviter's). An address with an open invitation is not invited
    twice. Returns the link's token, or None when nothing new was sent."""
    email = normalise_email(email)
    if any(m.user.email == email for m in org.members):  # the members' addresses are on the page already
        raise Conflict(_l("This person is already a member."))
    # One inviter at a time per organisation, so a double click sends one invitation.
    session.execute(select(Organisation.id).where(Organisation.id == org.id).with_for_update())
    now = utcnow()
    open_already = session.scalar(select(OrganisationInvitation.id).where(
        OrganisationInvitation.organisation_id == org.id, OrganisationInvitation.email == email,
        OrganisationInvitation.status == InvitationStatus.PENDING, OrganisationInvitation.expires_at > now))
    if open_already is not None:
        return None
    raw = new_token()
    invitation = OrganisationInvitation(organisation=org, email=email, token_hash=token_digest(raw),
                                        invited_by=actor, created_at=now, expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    invitee_locale = session.scalar(select(User.locale).where(User.email == email))
    queue_mail(
        session,
        key=f"org-invitation:{invitation.id}",
        to=email,
        locale=invitee_locale or locale,
        template="organisation_invitation",
        subject=_l("An invitation to join %(organisation)s", organisation=org.name),
        organisation=org.name,
        inviter=actor.full_name,
        email=email,
        expires_at=invitation.expires_at,
        link=absolute_url("orgs.invitation", token=raw),
    )
    record(session, "organisation.invitation_sent", actor_id=actor.id, object_type="organisation",
           object_id=org.id, ip_address=ip_address, invitation_id=invitation.id, email=email)
    return raw


def pending_invitations(session: Session, org: Organisation) -> list[OrganisationInvitation]:
    return list(session.scalars(
        select(OrganisationInvitation)
        .where(OrganisationInvitation.organisation_id == org.id,
               OrganisationInvitation.status == InvitationStatus.PENDING,
               OrganisationInvitation.expires_at > utcnow())
        .order_by(OrganisationInvitation.created_at, OrganisationInvitation.id)
    ))


def open_invitation(session: Session, raw: str) -> OrganisationInvitation:
    """The invitation a link names, while it can still be answered."""
    invitation = session.scalar(
        select(OrganisationInvitation)
        .options(joinedload(OrganisationInvitation.organisation), joinedload(OrganisationInvitation.invited_by))
        .where(OrganisationInvitation.token_hash == token_digest(raw))
    )
    if invitation is None or not invitation.is_open(utcnow()):
        raise InvitationGone()
    return invitation


def may_answer(user: User, invitation: OrganisationInvitation) -> bool:
    """Only the owner of the invited address answers: a forwarded link joins nobody else."""
    return user.email == invitation.email and user.email_verified_at is not None


def _end_invitation(session: Session, invitation: OrganisationInvitation, status: InvitationStatus,
                    actor: User) -> None:
    """The one way an invitation ends: from pending, before it expires, once, even when two requests race."""
    now = utcnow()
    ended = session.execute(
        update(OrganisationInvitation)
        .where(OrganisationInvitation.id == invitation.id,
               OrganisationInvitation.status == InvitationStatus.PENDING,
               OrganisationInvitation.expires_at > now)
        .values(status=status, ended_at=now, ended_by_id=actor.id)
    )
    if ended.rowcount != 1:
        raise InvitationGone()
    record(session, f"organisation.invitation_{status.value}", actor_id=actor.id, object_type="organisation",
           object_id=invitation.organisation_id, invitation_id=invitation.id, email=invitation.email)


def accept_invitation(session: Session, user: User, raw: str) -> Organisation:
    """Joins the organisation: only now does the person become a member (and, for a startup, hold its role)."""
    invitation = open_invitation(session, raw)
    if not may_answer(user, invitation):
        raise NotTheInvitee()
    _end_invitation(session, invitation, InvitationStatus.ACCEPTED, user)
    org = invitation.organisation
    if not any(m.user_id == user.id for m in org.members):
        org.members.append(OrganisationMember(user=user, is_owner=False))
        session.flush()
        _sync_startup_role(user)
    return org


def decline_invitation(session: Session, user: User, raw: str) -> Organisation:
    invitation = open_invitation(session, raw)
    if not may_answer(user, invitation):
        raise NotTheInvitee()
    _end_invitation(session, invitation, InvitationStatus.DECLINED, user)
    return invitation.organisation


def revoke_invitation(session: Session, actor: User, org: Organisation, invitation_id: int) -> str:
    """Withdraws an invitation of `org` (its managers only, checked by the caller loading `org`); returns the
    address it was sent to."""
    invitation = session.scalar(select(OrganisationInvitation).where(
        OrganisationInvitation.id == invitation_id, OrganisationInvitation.organisation_id == org.id))
    if invitation is None:
        raise NotFound()
    _end_invitation(session, invitation, InvitationStatus.REVOKED, actor)
    return invitation.email


def remove_member(session: Session, actor: User, org: Organisation, user_id: int) -> None:
    member = next((m for m in org.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound()
    if member.is_owner:
        raise DomainError(_l("The owner cannot be removed."))
    org.members.remove(member)
    session.flush()
    session.refresh(member.user, ["memberships"])
    _sync_startup_role(member.user)
    record(session, "organisation.member_removed", actor_id=actor.id, object_type="organisation",
           object_id=org.id, member_id=user_id)
