import re

from django.core import mail

from tests import factories


def test_sign_in_page_signs_in_and_goes_home(client, db):
    factories.UserFactory(username="bea", password="pass-word-2026")

    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "Forgot your password?" in page.text
    response = client.post("/accounts/login/", {"username": "bea", "password": "pass-word-2026"})

    assert response.status_code == 302 and response.url == "/"
    assert "Hello, " in client.get("/").text


def test_sign_in_with_a_wrong_password_explains_and_stays_signed_out(client, db):
    factories.UserFactory(username="bea", password="pass-word-2026")

    page = client.post("/accounts/login/", {"username": "bea", "password": "wrong"})

    assert page.status_code == 200 and "enter a correct username and password" in page.text
    assert client.get("/cases/").status_code == 302


def test_sign_out_ends_the_session(client, buyer):
    client.force_login(buyer)

    page = client.post("/accounts/logout/")

    assert "You are signed out" in page.text
    assert client.get("/cases/").url.startswith("/accounts/login/")


def test_password_reset_emails_a_link_that_sets_a_new_password(client, db):
    factories.UserFactory(username="bea", email="bea@example.com")

    client.post("/accounts/password_reset/", {"email": "bea@example.com"})

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.text
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "n3w-Pass-word!", "new_password2": "n3w-Pass-word!"},
                       follow=True)
    assert "Your password is changed" in done.text
    # Through the sign-in page: sign-in throttling (django-axes) needs the request.
    signed_in = client.post("/accounts/login/", {"username": "bea", "password": "n3w-Pass-word!"})
    assert signed_in.status_code == 302 and client.get("/cases/").status_code == 200


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db):
    page = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)

    assert "Check your email" in page.text
    assert mail.outbox == []
