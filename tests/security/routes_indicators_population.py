"""Permission-matrix declaration of the population upload page (``indicators:population_upload``).

Who holds what (roles.json), written out: the page needs ``registry.import_institution``, held by
the regulators (city and province), who also import the registry's network. Everyone else signed in
gets 403; the anonymous are sent to sign in. The page is not about a record: the answer does not
depend on the scope (a row for a region outside the uploader's region is refused row by row,
tests/indicators/test_populations.py).
"""

from __future__ import annotations

from tests.security.test_permission_matrix import Route, by_role

UPLOADERS = frozenset({"regulator", "regulator_province"})

ROUTES: dict[str, Route] = {
    "indicators:population_upload": Route(by_role(UPLOADERS, 200, 403), anon=302),
}
