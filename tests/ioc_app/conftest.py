"""Makes the identity-provider fixtures of ``tests.idp`` visible here (campus sign-in tests,
``test_sso.py``); nothing else. Fixtures are found by name in a conftest's namespace."""

from tests.idp import cas_server, oidc_server_for  # noqa: F401
