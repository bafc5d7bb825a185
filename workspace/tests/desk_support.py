"""Helpers of the workspace's page tests: a signed-in client per person and the cash form's token."""

from __future__ import annotations

import re

from django.test import Client


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    return re.search(r'name="token" value="([^"]+)"', page).group(1)
