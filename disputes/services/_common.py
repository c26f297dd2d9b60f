"""Helpers every service shares: the row lock, validation, saving with history, events."""

import re
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from disputes.events import CaseEvent
from disputes.exceptions import InvalidInput, TransitionRefused
from disputes.models import Case

User = get_user_model()


def system_user():
    """The named actor automated steps are recorded under; it cannot sign in."""
    # Unusable from its first insert: a process that reads the row a moment later must not see an
    # empty password, which would make the account an ordinary one (and refuse every system step).
    user, _ = User.objects.get_or_create(
        username=settings.SYSTEM_USERNAME,
        defaults={
            "first_name": "Support desk",
            "last_name": "(automatic)",
            "is_active": False,
            "password": make_password(None),
        },
    )
    return user


def case_available_actions(*, case: Case, user) -> list[str]:
    """The transitions `user` may fire on `case` now, read from the state machine."""
    return [t.name for t in case.get_available_user_state_transitions(user)]


def lock_case(case: Case) -> Case:
    """The case's row, locked until the transaction ends, with what transitions read: its order and
    policy. (A chat message locks only the columns it reads: `conversation._lock_for_message`.)"""
    return Case.objects.select_for_update(of=("self",)).select_related("order", "policy_version").get(pk=case.pk)


# PostgreSQL text holds no NUL, and an unpaired surrogate (which JSON can carry) is not UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "Text may not contain the NUL character or unpaired surrogates."


def refuse_unstorable(**texts) -> None:
    """Refuse text the database cannot hold as invalid input, before anything is written."""
    errors = {
        name: [UNSTORABLE_TEXT] for name, text in texts.items() if isinstance(text, str) and _UNSTORABLE.search(text)
    }
    if errors:
        raise InvalidInput(UNSTORABLE_TEXT, errors=errors)


def field_values(instance) -> dict:
    """The stored value of each column, to tell afterwards which ones a change touched."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def changed_fields(instance, before: dict) -> set[str]:
    fields = instance._meta.concrete_fields
    return {field.name for field in fields if getattr(instance, field.attname) != before[field.attname]}


def validate(instance, *, error: type[InvalidInput], message: str, fields: set[str] | None = None) -> None:
    """Validate `instance` (every field, or only `fields`: what a change to a stored row touched).

    The rest of a stored row was valid when it was written, and the database keeps its foreign
    keys and constraints; checking it again costs a query per foreign key and per constraint."""
    exclude = {"state"} if isinstance(instance, Case) else set()
    if fields is not None:
        exclude |= {field.name for field in instance._meta.fields if field.name not in fields}
    errors = {}
    try:
        instance.full_clean(exclude=exclude or None)
    except ValidationError as exc:
        errors = exc.message_dict
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(instance, field.attname, None)
        if isinstance(value, str) and _UNSTORABLE.search(value):
            errors.setdefault(field.name, []).append(UNSTORABLE_TEXT)
    if errors:
        raise error(message, errors=errors)


def save_with_history(instance, *, actor, reason: str) -> None:
    refuse_unstorable(note=reason)  # a reason quotes the user's note or grounds
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()


def refusal(case: Case, action: str, actor, message: str) -> TransitionRefused:
    return TransitionRefused(
        message, state=case.state, action=action, allowed_actions=case_available_actions(case=case, user=actor)
    )


def with_note(reason: str, note: str) -> str:
    return f"{reason}: {note.strip()}" if note and note.strip() else reason


def event_for(name: str, case: Case, *, actor, from_state: str, at: datetime, **data) -> CaseEvent:
    return CaseEvent(
        name=name,
        case_id=case.pk,
        reference=case.reference,
        actor_id=getattr(actor, "pk", None),
        from_state=from_state,
        to_state=case.state,
        at=at,
        data=data,
        buyer_id=case.buyer_id,
        seller_id=case.seller_id,
    )


def note_buyer_activity(case: Case) -> None:
    """The buyer did something: their inactivity window starts again. Not a change worth a
    history row of its own, so it is written without one."""
    case.buyer_last_active_at = timezone.now()
    case.save_without_historical_record(update_fields=["buyer_last_active_at"])
