"""Makes the identity-provider fixtures of ``tests.idp`` visible to the tests in this folder.

Elsewhere, import them the same way in that folder's ``conftest.py`` (importing them into a
test module makes ruff see the fixture arguments as redefinitions).
"""

# Fixtures are found by name in a conftest's namespace.
from tests.idp import (  # noqa: F401
    cas_server,
    oidc_post_logout_redirect_uris,
    oidc_redirect_uris,
    oidc_server,
    oidc_server_for,
)
