"""``xinqiao`` sub-commands of the patients app."""
