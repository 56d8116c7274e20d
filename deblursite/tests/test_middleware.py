def test_oversized_request_is_refused_before_it_is_read(alice_client, settings, media_storage):
    settings.REQUEST_MAX_BYTES = 1000

    response = alice_client.post("/photos/upload/", {"images": [], "padding": "x" * 2000})

    assert response.status_code == 413
    assert b"Request too large: at most 1000 bytes per request." in response.content


def test_request_within_the_limit_reaches_the_view(alice_client, settings, media_storage):
    settings.REQUEST_MAX_BYTES = 10_000

    response = alice_client.post("/photos/upload/", {"padding": "x" * 2000})

    assert response.status_code == 400
    assert b"This field is required" in response.content
