"""``xinqiao followup-rule`` and the other commands of the followups app."""
