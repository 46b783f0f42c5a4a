"""A host name the HTTP client cannot send to (found by schemathesis, issue 16): refused at
registration, and a failed attempt, never a crashed task, for one stored before that rule."""

from webhooks.services.sender import post


def test_a_host_the_client_cannot_encode_is_a_failed_attempt():
    outcome = post(url="http://\U000f1aa2\u00fc/hook", secret="s", body=b"{}", event_type="ping", delivery_id="1")
    assert outcome.ok is False
    assert "InvalidURL" in outcome.error
