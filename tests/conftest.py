import pytest

from campaigns.roles import EDITOR, LAUNCHER, READ_ONLY, ensure_roles
from tests.factories import DB_TASKS, make_user


def _user_with_role(role: str):
    from django.contrib.auth.models import Group

    # Transactional tests flush the tables the role migration filled: make sure again.
    ensure_roles()
    user = make_user()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def user(db):
    """A signed-in person who may do everything but the admin: the launcher role."""
    return _user_with_role(LAUNCHER)


@pytest.fixture
def read_only_user(db):
    return _user_with_role(READ_ONLY)


@pytest.fixture
def editor_user(db):
    return _user_with_role(EDITOR)


@pytest.fixture
def no_role_user(db):
    """Signed in, but nobody gave them a role yet."""
    return make_user()


@pytest.fixture
def onurix(settings, make_sandbox):
    """Point the app at a fresh sandbox, with the real task backend (tasks wait in the
    database: tests run the dispatch themselves) and calling hours always open; returns
    a function that starts the sandbox with options and returns it."""
    settings.TASKS = DB_TASKS
    settings.ONURIX_CLIENT_ID = "1000"
    settings.ONURIX_KEY = "sandbox-key"
    settings.ONURIX_TIMEOUT = 2
    settings.CAMPAIGN_CALLING_HOURS = "always"
    settings.ONURIX_NOT_REACHED_RETRIES = 1

    def start(**options):
        sandbox = make_sandbox(**options)
        settings.ONURIX_BASE_URL = sandbox.url
        return sandbox

    return start


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


@pytest.fixture(autouse=True)
def _campaign_totals_match_results(request):
    """After every test that used the database, each campaign's totals (kept by triggers)
    equal the sums of its results: every flow the suite runs checks the triggers too."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # so this check runs before the rollback
    yield
    from campaigns.models import Campaign
    from campaigns.selectors import campaign_totals_from_results

    for campaign in Campaign.objects.select_related("totals"):
        summed = campaign_totals_from_results(campaign=campaign)
        kept = {field: getattr(campaign.totals, field) for field in summed}
        assert kept == summed, campaign.name
