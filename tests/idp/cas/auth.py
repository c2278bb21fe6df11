"""The CAS attributes of the test users, the way a campus CAS releases them.

django-cas-server's ``DjangoAuthUser`` checks the password against Django's users but
releases every column of the user table (``password`` hash included).  A campus CAS
releases a directory profile instead, so this class keeps the password check and
releases ``uid``, ``email``, ``displayName`` and the multi-valued ``memberOf`` (the
user's Django groups).
"""

from __future__ import annotations

from typing import Any

from cas_server.auth import DjangoAuthUser


class CampusUser(DjangoAuthUser):
    """A Django user seen through a campus directory's attribute names."""

    def attributs(self) -> dict[str, Any]:
        """The attributes released to services (django-cas-server spells it ``attributs``)."""
        if not self.user:
            return {}
        return {
            "uid": self.user.username,
            "email": self.user.email,
            "displayName": self.user.first_name,
            "memberOf": sorted(group.name for group in self.user.groups.all()),
        }
