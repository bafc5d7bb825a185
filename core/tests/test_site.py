"""Site-wide odds and ends."""

from django.templatetags.static import static


def test_favicon_is_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("icons/flux-192.png")
    assert client.get(response["Location"]).status_code == 200


def test_the_home_page_tells_what_flux_is_and_leads_to_sign_in(client, db):
    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "on their way" not in page
    assert "Flux is your bank's app for everyday money" in page
    assert 'data-testid="landing-sign-in"' in page
    assert page.count('href="/login/"') >= 2  # the page's own button, besides the header's


def test_the_home_page_in_french(client, db):
    client.cookies["django_language"] = "fr"

    page = client.get("/").content.decode()

    assert "Flux est l’appli de votre banque pour l’argent du quotidien" in page
    assert ">Se connecter</a>" in page
