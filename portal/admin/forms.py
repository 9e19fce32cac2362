from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from portal.accounts.forms import ROLE_LABELS
from portal.forms import choices, required


class RoleChangeForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices((r.value, label) for r, label in ROLE_LABELS.items()),
                       validators=[required])
    action = SelectField(_l("Action"), choices=choices([("grant", _l("Grant")), ("revoke", _l("Revoke"))]),
                         validators=[required])
