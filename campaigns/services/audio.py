"""Writes on audio codes and their local listening files."""

from functools import partial
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from ..audio_files import detect_audio_type, read_head
from ..models import ActivityEntry, AudioCode
from .activity import activity_record


def audio_code_save(
    *,
    audio_code: AudioCode | None = None,
    code: str,
    name: str,
    notes: str,
    upload: File | None = None,
    remove_file: bool = False,
) -> AudioCode:
    """Create an audio code, or update `audio_code`, from already validated fields.

    A new `upload` replaces the stored file and is kept under a generated name with the
    extension of the type read from its content; `remove_file` without an upload clears it.
    The replaced file is deleted once the change is committed.
    Raises ValidationError if the upload is not MP3, WAV or OGG, or the code is taken.
    """
    audio_code = audio_code or AudioCode()
    storage = audio_code.audio_file.storage
    old_file = audio_code.audio_file.name or ""
    audio_code.code = code
    audio_code.name = name
    audio_code.notes = notes
    if upload is not None:
        extension = detect_audio_type(read_head(upload))
        if extension is None:
            raise ValidationError(
                {"audio_file": _("This file is not MP3, WAV or OGG audio.")}, code="not_audio"
            )
        audio_code.audio_file.save(f"{uuid4().hex}.{extension}", upload, save=False)
    elif remove_file:
        audio_code.audio_file = ""
    new_file = audio_code.audio_file.name or ""
    try:
        with transaction.atomic():
            audio_code.save()
    except IntegrityError:
        if new_file and new_file != old_file:
            storage.delete(new_file)
        if AudioCode.objects.filter(code=code).exclude(pk=audio_code.pk).exists():
            raise ValidationError(
                {"code": _("This code is already saved as another audio.")}, code="duplicate"
            ) from None
        raise
    if old_file and old_file != new_file:
        transaction.on_commit(partial(storage.delete, old_file))
    return audio_code


def audio_code_delete(*, audio_code: AudioCode) -> None:
    """Delete an audio code and its local file; recorded in the activity log.

    Raises ValidationError if a campaign uses the code: campaigns keep what they played.
    """
    storage = audio_code.audio_file.storage
    file_name = audio_code.audio_file.name or ""
    try:
        with transaction.atomic():
            activity_record(action=ActivityEntry.Action.AUDIO_DELETE, target=audio_code)
            audio_code.delete()
    except ProtectedError as error:
        raise ValidationError(
            _("Campaigns use this audio, so it cannot be deleted."), code="protected"
        ) from error
    if file_name:
        transaction.on_commit(partial(storage.delete, file_name))
