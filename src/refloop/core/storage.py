"""Stored documents (attachments, intake packets and page images, history files) are
encrypted on disk with the same keys as the encrypted columns (refloop.core.encryption).

A file on disk is `REFLOOP-E1 <key id>\\n` followed by nonce + ciphertext + tag of the
whole document. Documents are at most tens of megabytes and every reader wants all of
it (PDFium, Pillow, the spreadsheet reader), so whole-file encryption costs no streaming.
"""

import io
import os
from typing import cast

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages

from refloop.core import encryption

MAGIC = b"REFLOOP-E1 "


def seal(content: bytes) -> bytes:
    kid, sealed = encryption.encrypt_bytes(content)
    return MAGIC + kid.encode() + b"\n" + sealed


def unseal(stored: bytes, *, name: str = "A stored document") -> bytes:
    if not stored.startswith(MAGIC):
        raise encryption.DecryptionError(
            f"{name} is not encrypted: was it stored before encryption at rest, or written "
            "there by hand? `refloop keys rotate` encrypts documents stored before."
        )
    head, _, sealed = stored.partition(b"\n")
    kid = head[len(MAGIC) :].decode("ascii", "replace")
    return encryption.decrypt_bytes(kid, sealed, what=name)


def key_id_of(stored_head: bytes) -> str | None:
    """The key id in a stored file's first line; None when the file is not encrypted."""
    if not stored_head.startswith(MAGIC):
        return None
    return stored_head[len(MAGIC) :].split(b"\n", 1)[0].decode("ascii", "replace")


class EncryptedFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose files hold ciphertext; `open` gives the plaintext back.

    `size` answers the size on disk (a little larger than the document): the models keep
    the document's own size where it is shown.
    """

    def _save(self, name, content):
        if hasattr(content, "seek"):
            content.seek(0)
        plain = content.read()
        if isinstance(plain, str):
            plain = plain.encode()
        # django-stubs leave out _save and _open, the hooks Django documents for a storage.
        return super()._save(name, ContentFile(seal(plain)))  # type: ignore[misc]

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted documents are written through save(), not open().")
        with super()._open(name, "rb") as handle:  # type: ignore[misc]  # as in _save
            plain = unseal(handle.read(), name="A stored document")
        return File(io.BytesIO(plain), name=name)

    def reseal(self, name: str) -> bool:
        """Re-encrypt `name` under the current key (encrypting it if it was stored in
        clear); False when it already is. The file is replaced atomically."""
        stored = self._read_raw(name)
        kid = key_id_of(stored[:64])
        if kid == encryption.keyring().current_id:
            return False
        plain = stored if kid is None else unseal(stored, name="A stored document")
        self._replace(name, seal(plain))
        return True

    def unsealed(self, name: str) -> bool:
        """Write `name` back in clear (reversing the migration); False when it already is."""
        stored = self._read_raw(name)
        if key_id_of(stored[:64]) is None:
            return False
        self._replace(name, unseal(stored, name="A stored document"))
        return True

    def _read_raw(self, name: str) -> bytes:
        with open(self.path(name), "rb") as handle:
            return handle.read()

    def _replace(self, name: str, content: bytes) -> None:
        path = self.path(name)
        temporary = path + ".rekey"
        with open(temporary, "wb") as handle:
            handle.write(content)
        if self.file_permissions_mode is not None:
            os.chmod(temporary, self.file_permissions_mode)
        os.replace(temporary, path)


def documents_storage() -> Storage:
    """The storage of every FileField holding patient documents (settings.STORAGES)."""
    return storages["documents"]


def reseal_files(
    model, field_name: str, *, decrypt: bool = False, progress=None, batch: int = 500
) -> int:
    """Re-encrypt under the current key every stored file of `model.field_name` (files
    stored in clear get encrypted); with `decrypt`, write them back in clear (reversing
    the migration). Files already gone are skipped. Returns how many files changed."""
    # settings.STORAGES["documents"] is this module's EncryptedFileSystemStorage.
    storage = cast(EncryptedFileSystemStorage, storages["documents"])
    names = (
        model.objects.exclude(**{field_name: ""})
        .order_by("pk")
        .values_list(field_name, flat=True)
        .iterator(chunk_size=batch)
    )
    changed = seen = 0
    for name in names:
        seen += 1
        if not name or not storage.exists(name):
            continue
        changed += storage.unsealed(name) if decrypt else storage.reseal(name)
        if progress is not None and seen % batch == 0:
            progress(seen, changed)
    if progress is not None:
        progress(seen, changed)
    return changed
