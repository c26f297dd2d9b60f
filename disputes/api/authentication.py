"""DRF's token sign-in, with whose token is whose kept in the cache (disputes.cached).

The marketplace calls the API all day with one token, and DRF looks the token and its user up with
a query on every call. Here the token's owner is remembered until a token is saved or deleted (a
revoked token is refused at once), and the owner's row until it is saved or deleted (a deactivated
account is refused at once).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from disputes.backends import SECONDS, cached_person
from disputes.cached import forget, remembered

API_TOKENS = "api_tokens"


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        owner = Token.objects.filter(key=key).values_list("user_id", flat=True)
        owner_id = remembered(API_TOKENS, key, owner.first, seconds=SECONDS)
        if owner_id is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = cached_person(owner_id)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)


@receiver(post_save, sender=Token, dispatch_uid="disputes.api.token_saved")
@receiver(post_delete, sender=Token, dispatch_uid="disputes.api.token_deleted")
def _token_changed(sender, **kwargs):
    forget(API_TOKENS)
