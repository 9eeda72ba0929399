from emm_portal.entrypoints.rendering import safe_next
from emm_portal.entrypoints.security import csrf_matches, masked_csrf, origin_allowed


def test_a_masked_token_matches_its_secret_and_differs_every_time():
    first, second = masked_csrf("s3cret-value"), masked_csrf("s3cret-value")
    assert first != second
    assert csrf_matches("s3cret-value", first) and csrf_matches("s3cret-value", second)


def test_a_token_of_another_secret_or_none_is_refused():
    assert not csrf_matches("s3cret-value", masked_csrf("other-secret"))
    assert not csrf_matches("s3cret-value", None)
    assert not csrf_matches("s3cret-value", "")
    assert not csrf_matches("s3cret-value", "s3cret-value")
    assert not csrf_matches("s3cret-value", "%%%not base64")


def test_origin_must_be_ours_when_the_browser_names_it():
    ours = {"https://portal.example"}
    assert origin_allowed(None, ours)
    assert origin_allowed("https://portal.example", ours)
    assert not origin_allowed("https://evil.example", ours)
    assert origin_allowed("null", ours)  # what our own pages' posts say, with no-referrer


def test_next_is_a_path_on_this_site_only():
    assert safe_next("/trainings/ses-1/evaluation") == "/trainings/ses-1/evaluation"
    assert safe_next("/trainings?x=1") == "/trainings?x=1"
    for elsewhere in ("https://evil.example/", "//evil.example", "/\\evil.example", "evil", "", None,
                      "/ok\r\nSet-Cookie: x", "javascript:alert(1)"):
        assert safe_next(elsewhere) == "/", elsewhere
    assert safe_next(None, "/trainings") == "/trainings"
