"""Notifications the org layer offers to higher apps (which must not be imported here).

Both are sent after the transaction that made the change commits.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=User, user_id=int, reason=str: the user may no longer use the platform.
user_access_revoked = Signal()
# sender=User, user_id=int: roles or department changed; cached permissions are stale.
user_permissions_changed = Signal()
