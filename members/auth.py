from django.contrib.auth.backends import ModelBackend

from members.models import User
from members.selectors import user_with_member_get


class EmailOrUsernameBackend(ModelBackend):
    """Customers log in with their email; staff with a username. Both are case-insensitive."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = username.strip()
        user = (
            User.objects.filter(username__iexact=username).first()
            or User.objects.filter(email__iexact=username).order_by("pk").first()
        )
        if user is None:
            User().set_password(password)  # same time whether or not the user exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        # Every logged-in page: the login and its member in one statement.
        user = user_with_member_get(user_id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
