"""Django's ModelBackend, with each person's row and permissions kept between requests
(disputes.cached), and the marketplace's service account kept out of the desk's pages.

Every page and API call loads the signed-in person and asks whether they are an agent; ModelBackend
answers with three queries (their row, their own permissions, their groups'). Kept in the cache, a
row is forgotten whenever it is saved or deleted, and permissions whenever group membership, a
group's permissions, someone's own permissions or a superuser flag may change.

The service account ("Marketplace integrations") uses the API with its token, which DRF checks
without this backend. It may not sign in with a password (the sign-in form says why), and a
session of it is not honoured: pages and sockets take it as signed out.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from disputes.cached import forget, remembered
from disputes.permissions import is_service_account

User = get_user_model()

PERMISSIONS = "permissions"
SECONDS = 300  # a change the signals below do not see (a raw UPDATE) shows within this


def person_topic(user_id) -> str:
    return f"person:{user_id}"


def cached_person(user_id):
    """The user with this pk (None if there is none), as last saved."""
    return remembered(
        person_topic(user_id), "", lambda: User._default_manager.filter(pk=user_id).first(), seconds=SECONDS
    )


SERVICE_SIGN_IN_REFUSED = (
    "This is the marketplace's service account: it works through the API with its token "
    "and cannot sign in to the desk's pages."
)


class CachedPermissionsBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """A person whose password is right, except the service account: its refusal is a
        ValidationError, which the sign-in forms (the desk's and the admin's) show as it is."""
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and is_service_account(user):
            raise ValidationError(SERVICE_SIGN_IN_REFUSED, code="service_account")
        return user

    def get_user(self, user_id):
        user = cached_person(user_id)
        if user is None or not self.user_can_authenticate(user) or is_service_account(user):
            return None
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            from_database = super().get_all_permissions
            user_obj._perm_cache = remembered(
                PERMISSIONS, str(user_obj.pk), lambda: from_database(user_obj), seconds=SECONDS
            )
        return user_obj._perm_cache


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="disputes.perms.groups")
@receiver(m2m_changed, sender=User.user_permissions.through, dispatch_uid="disputes.perms.user")
@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="disputes.perms.group")
def _membership_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        forget(PERMISSIONS)


@receiver(post_save, sender=User, dispatch_uid="disputes.perms.user_saved")
def _user_saved(sender, instance, update_fields=None, **kwargs):
    forget(person_topic(instance.pk))
    if update_fields is None or "is_superuser" in update_fields:  # not a sign-in's last_login
        forget(PERMISSIONS)


@receiver(post_delete, sender=User, dispatch_uid="disputes.perms.user_deleted")
def _user_deleted(sender, instance, **kwargs):
    forget(person_topic(instance.pk))


@receiver(post_delete, sender=Group, dispatch_uid="disputes.perms.group_deleted")
@receiver(post_save, sender=Permission, dispatch_uid="disputes.perms.permission_saved")
@receiver(post_delete, sender=Permission, dispatch_uid="disputes.perms.permission_deleted")
def _permissions_changed(sender, **kwargs):
    forget(PERMISSIONS)
