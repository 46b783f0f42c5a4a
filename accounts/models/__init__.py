from .idempotency import IdempotencyRecord
from .user import LoginAttempt, User, UserManager

__all__ = ["IdempotencyRecord", "LoginAttempt", "User", "UserManager"]
