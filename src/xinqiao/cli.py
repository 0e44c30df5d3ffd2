"""The ``xinqiao`` command: a thin wrapper over Django's management commands.

``xinqiao rotate-keys`` runs the ``rotate_keys`` command; hyphens and underscores are equivalent,
so the contracts in DESIGN.md (``xinqiao idcard``, ``xinqiao audit verify``, ``xinqiao demo``)
read naturally on a shell.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``xinqiao <command> [args]`` to ``manage.py <command> [args]``."""
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["xinqiao", *args[1:]])


if __name__ == "__main__":
    main()
