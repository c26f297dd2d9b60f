"""{% route %}: a fixed route's path, as {% url %} gives it, under the script prefix and URLconf in use."""

from django.template import engines
from django.test import override_settings
from django.urls import clear_script_prefix, include, path, set_script_prefix

LINK = engines["django"].from_string("{% load desk %}<a href=\"{% route 'disputes:case-list' %}\">")


def test_gives_the_same_path_as_url():
    expected = engines["django"].from_string("<a href=\"{% url 'disputes:case-list' %}\">").render({})

    assert LINK.render({}) == expected == '<a href="/cases/">'


def test_follows_the_script_prefix_the_site_is_served_under():
    LINK.render({})  # reversed once at the root
    set_script_prefix("/support/")
    try:
        assert LINK.render({}) == '<a href="/support/cases/">'
    finally:
        clear_script_prefix()
    assert LINK.render({}) == '<a href="/cases/">'


urlpatterns = [path("elsewhere/", include(([path("", lambda request: None, name="case-list")], "disputes")))]


def test_follows_a_changed_urlconf():
    LINK.render({})
    with override_settings(ROOT_URLCONF=__name__):
        assert LINK.render({}) == '<a href="/elsewhere/">'
    assert LINK.render({}) == '<a href="/cases/">'
