import time

from emm_portal.adapters.session_cookie import ANONYMOUS_LIFETIME_SECONDS, CookieCodec, cookie_secret
from emm_portal.domain.visitor import Visitor



def signed_in(expires_at: float | None = None) -> Visitor:
    expires_at = time.time() + 3600 if expires_at is None else expires_at
    return Visitor(language="pt").signed_in_as("api-token", "participant", "par-1", expires_at,
                                               session_id="ses-1", enrollment_id="enr-1")


def test_a_visitor_comes_back_from_their_cookie_unchanged():
    codec = CookieCodec(b"secret")
    visitor = signed_in()
    assert codec.decode(codec.encode(visitor)) == visitor


def test_the_cookie_does_not_show_the_api_token():
    codec = CookieCodec(b"secret")
    assert "api-token" not in codec.encode(signed_in())


def test_a_changed_cookie_or_another_key_makes_a_new_visitor():
    value = CookieCodec(b"secret").encode(signed_in())
    tampered = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    assert CookieCodec(b"secret").decode(tampered) is None
    assert CookieCodec(b"other").decode(value) is None
    assert CookieCodec(b"secret").decode("not a cookie") is None


def test_a_cookie_whose_token_expired_keeps_the_language_but_signs_out():
    codec = CookieCodec(b"secret")
    back = codec.decode(codec.encode(signed_in(expires_at=time.time() - 1)))
    assert not back.signed_in and back.language == "pt"


def test_the_cookie_lives_as_long_as_the_token_or_thirty_days():
    now = time.time()
    assert CookieCodec.max_age(signed_in(now + 600), now) == 600
    assert CookieCodec.max_age(Visitor(), now) == ANONYMOUS_LIFETIME_SECONDS


def test_signing_in_and_out_changes_the_csrf_secret():
    anonymous = Visitor()
    visitor = anonymous.signed_in_as("t", "organizer", "stf-1", time.time())
    assert visitor.csrf != anonymous.csrf
    assert visitor.signed_out().csrf != visitor.csrf and not visitor.signed_out().signed_in


def test_the_secret_is_generated_once_into_the_key_file(tmp_path):
    key_file = tmp_path / "keys" / "portal-cookie.key"
    first = cookie_secret(None, key_file)
    assert cookie_secret(None, key_file) == first and len(first) > 40
    assert cookie_secret("configured", key_file) == b"configured"
    assert key_file.stat().st_mode & 0o077 == 0
