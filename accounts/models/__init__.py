from .user import LoginAttempt, User, UserManager

__all__ = ["LoginAttempt", "User", "UserManager"]
