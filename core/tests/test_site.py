"""Site-wide odds and ends."""

from django.templatetags.static import static


def test_favicon_is_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("icons/flux-192.png")
    assert client.get(response["Location"]).status_code == 200
