"""Django's ModelBackend, with each person's permissions kept between requests (disputes.cached).

Every page and API call asks whether someone is an agent; ModelBackend answers with two queries
(their own permissions, their groups'). Kept in the cache, they are forgotten whenever group
membership, a group's permissions, someone's own permissions or a superuser flag may change.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from disputes.cached import forget, remembered

PERMISSIONS = "permissions"
SECONDS = 300  # a change the signals below do not see (a raw UPDATE) shows within this


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            from_database = super().get_all_permissions
            user_obj._perm_cache = remembered(
                PERMISSIONS, str(user_obj.pk), lambda: from_database(user_obj), seconds=SECONDS
            )
        return user_obj._perm_cache


User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="disputes.perms.groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="disputes.perms.user")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="disputes.perms.group")
def _membership_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        forget(PERMISSIONS)


@receiver(post_save, sender=User, dispatch_uid="disputes.perms.user_saved")
def _user_saved(sender, update_fields=None, **kwargs):
    if update_fields is None or "is_superuser" in update_fields:  # not a sign-in's last_login
        forget(PERMISSIONS)


@receiver(post_delete, sender=Group, dispatch_uid="disputes.perms.group_deleted")
@receiver(post_save, sender=Permission, dispatch_uid="disputes.perms.permission_saved")
@receiver(post_delete, sender=Permission, dispatch_uid="disputes.perms.permission_deleted")
def _permissions_changed(sender, **kwargs):
    forget(PERMISSIONS)
