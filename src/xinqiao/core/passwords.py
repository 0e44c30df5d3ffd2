"""Password policy beyond Django's validators: characters from several classes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class CharacterClassValidator:
    """Require characters from ``min_classes`` of: lower case, upper case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    @staticmethod
    def classes(password: str) -> int:
        """How many of the four classes the password uses."""
        return sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )

    def validate(self, password: str, user: Any = None) -> None:
        if self.classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_character_classes")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must mix at least %(n)d kind of character: lower case, upper case, digits, symbols.",
            "Your password must mix at least %(n)d kinds of character: lower case, upper case, digits, symbols.",
            self.min_classes,
        ) % {"n": self.min_classes}
