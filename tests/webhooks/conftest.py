import pytest

from tests.webhooks.support import start_receiver


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """Tests deliver to a receiver on 127.0.0.1 and retry on a short schedule."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_SCHEDULE = (0, 0)
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def endpoint_for(db):
    """Factory: an active endpoint for a receiver (every order event unless ``events`` given)."""
    from webhooks.services.endpoints import endpoint_create

    def make(receiver, events=("*",), path="/hook", secret="s" * 32):
        return endpoint_create(url=receiver.url + path, events=list(events), secret=secret)

    return make
