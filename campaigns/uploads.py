"""The upload handler that stops an uploaded file at IMPORT_MAX_BYTES while it streams in.

Django's own handlers store the whole body before a form can look at its size: a 2 GB
upload would fill the disk first. This handler, first in FILE_UPLOAD_HANDLERS, passes
chunks on to the others until a file passes the limit, then stops passing them (the rest
of the body is read and dropped) and hands the form a `RefusedUpload` that says so.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class RefusedUpload(UploadedFile):
    """A file that passed the limit: nothing of it is kept; `size` is what arrived."""

    refused = True

    def __init__(self, name: str, size: int, limit: int):
        super().__init__(file=None, name=name, size=size)
        self.limit = limit


class LimitedUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.limit = max(settings.IMPORT_MAX_BYTES, settings.AUDIO_MAX_BYTES)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received = start + len(raw_data)
        if self.received > self.limit:
            return None  # the next handlers get nothing more of this file
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received > self.limit:
            return RefusedUpload(self.file_name, self.received, self.limit)
        return None  # the next handler completes the file
