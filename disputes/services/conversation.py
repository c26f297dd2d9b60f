"""Messages and evidence on a case."""

from collections.abc import Sequence
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from disputes.events import announce
from disputes.evidence import EvidenceRejected, check_evidence_file, shown_name
from disputes.exceptions import InvalidInput
from disputes.models import Case, Evidence, Message
from disputes.permissions import is_agent, is_case_party
from disputes.ratelimits import rate_limit
from disputes.services._common import event_for, lock_case, note_buyer_activity, refusal, refuse_unstorable

DESCRIPTION_MAX_LENGTH = Evidence._meta.get_field("description").max_length
BUYER_ACTIVITY_RESOLUTION = timedelta(minutes=1)
# A message's two reads of its case are plain statements: they run on every chat message, and
# building them with the ORM took ~30 % of a post's CPU (bench/README.md, the chat).
# The row, locked, with what posting reads: the sides, whether it is finished, the buyer's last activity.
_LOCK_FOR_MESSAGE = (
    f"SELECT id, buyer_id, seller_id, state, buyer_last_active_at FROM {Case._meta.db_table} WHERE id = %s"
)
# The ids of the case's last message and of the last one its parties see.
_LATEST_MESSAGE_IDS = (
    f"SELECT (SELECT id FROM {Message._meta.db_table} WHERE case_id = %s ORDER BY id DESC LIMIT 1), "
    f"(SELECT id FROM {Message._meta.db_table} WHERE case_id = %s AND NOT is_internal ORDER BY id DESC LIMIT 1)"
)


@transaction.atomic
def message_post(*, case: Case, author, body: str, internal: bool = False) -> Message:
    """Post a message; only agents write internal notes, and only parties and agents post."""
    case = _lock_for_message(case)
    if not (is_case_party(case, author) or is_agent(case, author)):
        raise PermissionDenied("Only the case's buyer, its seller and our agents can write here.")
    if internal and not is_agent(case, author):
        raise PermissionDenied("Only agents write internal notes.")
    if case.is_finished and not internal:
        raise refusal(case, "message_post", author, "This case is finished; it takes no more messages.")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write a message first.", errors={"body": ["Write a message first."]})
    if len(body) > Message.MAX_LENGTH:
        error = f"Keep messages under {Message.MAX_LENGTH} characters."
        raise InvalidInput(error, errors={"body": [error]})
    refuse_unstorable(body=body)
    rate_limit(user=author, message=1)
    if author.pk == case.buyer_id and not _active_just_now(case):
        note_buyer_activity(case)
    previous_id, previous_public_id = _latest_message_ids(case)
    message = Message.objects.create(
        case=case, author=author, body=body, is_internal=internal, created_at=timezone.now()
    )
    message.previous_id, message.previous_public_id = previous_id, previous_public_id
    name = "note_added" if internal else "message_posted"
    announce(event_for(name, case, actor=author, from_state=case.state, at=message.created_at, message=message))
    return message


def _lock_for_message(case: Case) -> Case:
    """The case's row, locked until the transaction ends (SQLite has no row locks: its writers take
    turns on the whole database)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    for locked in Case.objects.raw(_LOCK_FOR_MESSAGE + lock, [case.pk]):
        return locked
    raise Case.DoesNotExist(f"No case {case.pk}")


def _latest_message_ids(case: Case) -> tuple[int, int]:
    """The ids of the case's last message and of the last one its parties see (0: none yet).

    Live clients get them with each new message: ids are global, so a client cannot tell a gap
    from the ids alone, but it can when the message before the new one is not the last it saw.
    Read under the case's row lock, which every message takes, so no other message on the case
    commits between these and the new one."""
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_MESSAGE_IDS, [case.pk, case.pk])
        latest_id, latest_public_id = cursor.fetchone()
    return latest_id or 0, latest_public_id or 0


def _active_just_now(case: Case) -> bool:
    """The buyer's inactivity is counted in days: while they chat, one write of the case row a
    minute says it as well as one a message."""
    last = case.buyer_last_active_at
    return last is not None and timezone.now() - last < BUYER_ACTIVITY_RESOLUTION


@transaction.atomic
def evidence_add(*, case: Case, uploader, files: Sequence[UploadedFile], description: str = "") -> list[Evidence]:
    """Store evidence files after checking every one; one bad file stores none."""
    case = lock_case(case)
    if not (is_case_party(case, uploader) or is_agent(case, uploader)):
        raise PermissionDenied("Only the case's buyer, its seller and our agents add evidence.")
    if case.is_finished:
        raise refusal(case, "evidence_add", uploader, "This case is finished; it takes no more evidence.")
    rate_limit(user=uploader, upload=len(files))
    stored = store_evidence(case=case, uploader=uploader, files=files, description=description)
    if uploader.pk == case.buyer_id:
        note_buyer_activity(case)
    case.evidence_requests.filter(requested_from=uploader, fulfilled_at__isnull=True).update(
        fulfilled_at=timezone.now()
    )
    announce(
        event_for(
            "evidence_added",
            case,
            actor=uploader,
            from_state=case.state,
            at=timezone.now(),
            evidence_ids=[item.pk for item in stored],
        )
    )
    return stored


def store_evidence(*, case: Case, uploader, files: Sequence[UploadedFile], description: str = "") -> list[Evidence]:
    """Check and save files on a case the caller has locked and authorised."""
    if not files:
        raise InvalidInput("Choose a file to add.", errors={"files": ["Choose a file to add."]})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        error = f"Keep the description under {DESCRIPTION_MAX_LENGTH} characters."
        raise InvalidInput(error, errors={"description": [error]})
    refuse_unstorable(description=description)
    try:
        checked = [(upload, check_evidence_file(upload)) for upload in files]
    except EvidenceRejected as exc:
        raise InvalidInput(str(exc), errors={"files": [str(exc)]}) from exc
    now = timezone.now()
    stored = []
    for upload, facts in checked:
        item = Evidence(
            case=case,
            uploaded_by=uploader,
            original_name=shown_name(upload.name),
            content_type=facts.content_type,
            size=facts.size,
            sha256=facts.sha256,
            description=description,
            created_at=now,
        )
        item.file.save(f"upload{facts.extension}", upload, save=False)
        item.save()
        stored.append(item)
    return stored
