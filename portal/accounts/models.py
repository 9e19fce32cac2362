"""People, their roles, their organisations, their sessions and their consents."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.search import Searchable


class Role(enum.StrEnum):
    STARTUP = "startup"
    MENTOR = "mentor"
    ORGANISER = "organiser"
    INCUBATOR_MANAGER = "incubator_manager"
    REVIEWER = "reviewer"
    ADMIN = "admin"


#: the order in which a person holding several roles is sent to a dashboard, and sees their dashboards listed
DASHBOARD_ORDER = (Role.ADMIN, Role.ORGANISER, Role.INCUBATOR_MANAGER, Role.REVIEWER, Role.MENTOR, Role.STARTUP)


class OrganisationKind(enum.StrEnum):
    STARTUP = "startup"
    COMPANY = "company"
    UNIVERSITY = "university"
    OTHER = "other"


class StartupStage(enum.StrEnum):
    IDEA = "idea"
    PROTOTYPE = "prototype"
    MVP = "mvp"
    EARLY_REVENUE = "early_revenue"
    GROWTH = "growth"


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a token purpose, not a password
    CHANGE_EMAIL = "change_email"


class InvitationStatus(enum.StrEnum):
    """An invitation is pending until it is accepted, declined or revoked; expiry is read from expires_at."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class User(Searchable, Base):
    __tablename__ = "users"
    __search_fields__ = ("full_name", "email")

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased, unique; the login name
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: 'vi' or 'en': the language of the interface and of the mail we send
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    phone: Mapped[str | None] = mapped_column(String(32))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", foreign_keys="UserRole.user_id"
    )
    memberships: Mapped[list[OrganisationMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    #: the session token this object was loaded through (set by the login manager, never stored)
    auth_token = None  # str | None; a plain attribute, deliberately not a column

    @property
    def role_set(self) -> set[Role]:
        return {r.role for r in self.roles}

    def has_role(self, role: Role) -> bool:
        return role in self.role_set

    # Flask-Login protocol: identity is the server-side session, not the user id, so that
    # logging out really ends a session and a copied cookie stops working.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.auth_token


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])


class AuthSession(Base):
    """A logged-in browser. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class AuthToken(Base):
    """A single-use, expiring link sent by e-mail (verification, password reset, e-mail change)."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the new address, for an e-mail change; the page a new account was going to, for a verification
    payload: Mapped[str | None] = mapped_column(String(254))
    #: the account's password and address when the link was issued, hashed (services.credentials_fingerprint): a new
    #: password or address, however it is set, ends every link issued before it
    credentials: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class Organisation(Searchable, Base):
    __tablename__ = "organisations"
    __search_fields__ = ("name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, "organisation_kind"))
    website: Mapped[str | None] = mapped_column(String(255))
    #: mã số thuế, printed on receipts when set (portal/tax_codes.py)
    tax_code: Mapped[str] = mapped_column(String(14), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[OrganisationMember]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationMember.id"
    )
    startup_profile: Mapped[StartupProfile | None] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", uselist=False
    )


class OrganisationMember(Base):
    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class OrganisationInvitation(Base):
    """An owner's invitation to join an organisation, mailed to an address; the person joins only by accepting it
    while logged in with that address."""

    __tablename__ = "organisation_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: lower-cased, as User.email
    email: Mapped[str] = mapped_column(String(254))
    #: the SHA-256 of the link's token; the token itself is only in the mail
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[InvitationStatus] = mapped_column(str_enum(InvitationStatus, "invitation_status"),
                                                     default=InvitationStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: when it was accepted, declined or revoked
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: who accepted, declined or revoked it
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def is_open(self, now: datetime) -> bool:
        return self.status is InvitationStatus.PENDING and self.expires_at > now


class StartupProfile(Base):
    __tablename__ = "startup_profiles"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(80))
    stage: Mapped[StartupStage] = mapped_column(str_enum(StartupStage, "startup_stage"))
    founded_on: Mapped[date | None] = mapped_column(Date)
    team_size: Mapped[int | None] = mapped_column(Integer)
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship(back_populates="startup_profile")


class ConsentRecord(Base):
    """One decision about one purpose: the history is kept, the newest row is in force."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    #: the version of the wording the person saw
    wording_version: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(45))
