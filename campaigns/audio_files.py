"""Recognising audio files by their first bytes, never by their name or declared type."""

# Extension stored for each detected type, and the content type it is served with.
AUDIO_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
}

# Enough bytes for every signature below (WAV needs 12).
HEAD_SIZE = 12


def detect_audio_type(head: bytes) -> str | None:
    """The type of an audio from its first bytes: "mp3", "wav", "ogg", or None if not one."""
    if head.startswith(b"ID3"):
        return "mp3"
    # An MP3 without ID3 tag starts with an MPEG audio frame: 11 sync bits set.
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    return None


def read_head(file) -> bytes:
    """The first bytes of an open file, leaving it positioned at its start."""
    file.seek(0)
    head = file.read(HEAD_SIZE)
    file.seek(0)
    return head
