"""Reading the card data the ERP stores encrypted.

The flow needs a card's number and CVV exactly once: to register the card at the gateway. How
the ERP encrypted them is pluggable (`CardDecryptor`); the shipped implementation is Fernet with
its key in a Prefect secret block. Moving to gateway tokenisation removes the need for any of it.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken
from prefect.blocks.core import Block
from pydantic import Field, SecretStr


class CardDataUnreadable(Exception):
    """Stored card data could not be decrypted (wrong key or damaged value)."""


class CardDecryptor(Protocol):
    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of one encrypted column; raises `CardDataUnreadable`."""
        ...


class FernetCardCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256). `encrypt` is for whoever stores cards (ERP, demo)."""

    def __init__(self, key: SecretStr) -> None:
        self._fernet = Fernet(key.get_secret_value().encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise CardDataUnreadable(
                "dados do cartão ilegíveis (chave errada ou valor corrompido)"
            ) from None


class FernetCardKey(Block):
    """The Fernet key that decrypts the card columns of `cad_cliente_cartao`."""

    _block_type_name = "Gym ERP card key"
    _block_type_slug = "gym-erp-card-key"
    _description = "Fernet key (urlsafe base64, 32 bytes) for the ERP's encrypted card columns."

    key: SecretStr = Field(description="Fernet key, e.g. from Fernet.generate_key().")

    def cipher(self) -> FernetCardCipher:
        return FernetCardCipher(self.key)
