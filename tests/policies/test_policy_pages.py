from datetime import timedelta

from django.utils import timezone

from tests import factories


def test_policy_list_shows_published_policies_only(client, db):
    factories.dispute_policy(title="Buyer protection")
    factories.dispute_policy(slug="draft", title="Secret draft", is_published=False)
    factories.dispute_policy(slug="later", title="Next year's rules", effective_from=timezone.now() + timedelta(days=30))

    page = client.get("/policies/")

    assert page.status_code == 200
    assert "Buyer protection" in page.text
    assert "Secret draft" not in page.text and "Next year" not in page.text


def test_policy_page_shows_the_text_and_the_rules_in_numbers(client, db):
    factories.dispute_policy(body="First paragraph.\n\nSecond <b>paragraph</b>.", seller_answer_hours=36)

    page = client.get("/policies/disputes/")

    assert page.status_code == 200
    assert "<p>First paragraph.</p>" in page.text
    assert "Second &lt;b&gt;paragraph&lt;/b&gt;." in page.text
    assert "36 hours" in page.text


def test_policy_page_of_an_unpublished_or_unknown_policy_is_404(client, db):
    factories.dispute_policy(is_published=False)
    assert client.get("/policies/disputes/").status_code == 404
    assert client.get("/policies/nothing-here/").status_code == 404
