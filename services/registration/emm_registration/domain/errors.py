"""The domain's errors: the shared ones (each names the field at fault)."""

from emm_common.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthorized

__all__ = ["Conflict", "DomainError", "Forbidden", "InvalidInput", "NotFound", "Unauthorized"]
