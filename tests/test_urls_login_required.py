"""Every page needs a signed-in user: walk the whole URLconf as an anonymous visitor."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Values tried, in order, for each URL parameter until one matches its converter or regex.
CANDIDATE_VALUES = ["1", "campaigns", "x"]
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")
ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _fill_route(route: str) -> str:
    return ROUTE_PARAM.sub("1", route)


def _fill_regex(regex: str) -> str:
    def value_for(match):
        body = match.group("body")
        for candidate in CANDIDATE_VALUES:
            if re.fullmatch(body, candidate):
                return candidate
        raise AssertionError(f"no sample value for group {match.group(0)}")

    filled = NAMED_GROUP.sub(value_for, regex)
    return filled.removeprefix("^").removesuffix("$").replace("\\Z", "").replace("\\", "")


def _pattern_text(pattern) -> str:
    text = str(pattern.pattern)
    if hasattr(pattern.pattern, "_route"):
        return _fill_route(text)
    return _fill_regex(text)


def _walk(patterns, prefix=""):
    for pattern in patterns:
        path = prefix + _pattern_text(pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, path)
        elif isinstance(pattern, URLPattern):
            yield "/" + path


# Public on purpose: the browser asks for the icon before anyone signs in.
PUBLIC_PATHS = {"/favicon.ico", "/healthz"}
ALL_PATHS = sorted(set(_walk(get_resolver().url_patterns)) - PUBLIC_PATHS)


def test_the_walk_covers_the_app_and_the_admin():
    assert "/campaigns/1/" in ALL_PATHS
    assert "/contacts/" in ALL_PATHS
    assert "/admin/campaigns/contact/1/change/" in ALL_PATHS
    assert len(ALL_PATHS) > 50


@pytest.mark.django_db
@pytest.mark.parametrize("path", ALL_PATHS)
def test_anonymous_visitor_ends_on_the_login_page(client, path):
    login_url = reverse("login")
    if path == login_url:
        response = client.get(path)
        assert response.status_code == 200
        return
    response = client.get(path, follow=True)
    assert response.redirect_chain, f"{path} answered {response.status_code} without a redirect"
    assert response.request["PATH_INFO"] == login_url, f"{path} did not lead to the login page"
    assert response.status_code == 200


@pytest.mark.django_db
def test_anonymous_post_is_refused_too(client):
    response = client.post(reverse("contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
