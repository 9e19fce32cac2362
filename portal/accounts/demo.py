"""Demo accounts, one per role; the README lists them. Names and companies are invented."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from portal.accounts.consents import record_consents
from portal.accounts.models import (
    Organisation,
    OrganisationKind,
    OrganisationMember,
    Role,
    StartupProfile,
    StartupStage,
    User,
    UserRole,
)
from portal.accounts.services import find_user_by_email, hash_password
from portal.db import utcnow

DEMO_PASSWORD = "hanoi-demo-2026"  # noqa: S105 - documented in the README for trying the portal

DEMO_USERS = (
    ("admin@demo.dmst-hanoi.vn", "Nguyễn Quản Trị", "vi", (Role.ADMIN,)),
    ("organiser@demo.dmst-hanoi.vn", "Trần Thu Hà", "vi", (Role.ORGANISER,)),
    ("manager@demo.dmst-hanoi.vn", "Lê Minh Quân", "vi", (Role.INCUBATOR_MANAGER,)),
    ("reviewer@demo.dmst-hanoi.vn", "Phạm Thị Lan", "vi", (Role.REVIEWER,)),
    ("mentor@demo.dmst-hanoi.vn", "Đỗ Anh Tuấn", "en", (Role.MENTOR,)),
    ("startup@demo.dmst-hanoi.vn", "Vũ Hoàng Nam", "vi", ()),
)
DEMO_STARTUP = "GreenLeaf AI (demo)"


def load(session: Session) -> int:
    created = 0
    password_hash = None
    users = {}
    for email, name, locale, roles in DEMO_USERS:
        user = find_user_by_email(session, email)
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, full_name=name, locale=locale, password_hash=password_hash,
                        email_verified_at=utcnow())
            user.roles = [UserRole(role=role) for role in roles]
            session.add(user)
            session.flush()
            record_consents(session, user, {"account": True, "newsletter": False, "analytics": False})
            created += 1
        users[email] = user
    founder = users["startup@demo.dmst-hanoi.vn"]
    if not founder.memberships:
        org = Organisation(name=DEMO_STARTUP, kind=OrganisationKind.STARTUP, website="https://greenleaf.example.vn")
        org.members.append(OrganisationMember(user=founder, is_owner=True))
        org.startup_profile = StartupProfile(
            sector="AgriTech", stage=StartupStage.MVP, founded_on=date(2024, 3, 1), team_size=7,
            description_vi="Dùng thị giác máy tính để phát hiện sớm sâu bệnh trên lúa.",
            description_en="Computer vision that spots rice pests and diseases early.",
        )
        session.add(org)
        founder.roles.append(UserRole(role=Role.STARTUP))
    return created
