import pytest

from tests.factories import make_user


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def staff_user(db):
    return make_user(is_staff=True, is_superuser=True)


@pytest.fixture
def auth_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
