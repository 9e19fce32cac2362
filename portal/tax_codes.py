"""Vietnamese tax codes (mã số thuế): 10 digits for an enterprise, plus a hyphen and 3 digits for a branch."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

TAX_CODE = re.compile(r"\d{10}(-\d{3})?\Z")  # \Z: WTForms' Regexp only anchors the start
TAX_CODE_RULE = _l("A tax code has 10 digits, or 10 digits, a hyphen and 3 more for a branch (0101234567-001).")
