"""The site's edges: unknown URLs, refusals, the server's own failure and a refused form get
pages in the shell's look that echo nothing of the request; the API keeps answering JSON;
/favicon.ico answers."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path
from django.utils.html import escape

from refloop import urls as root_urls
from refloop.web import edges

SECRET_PATH = "/referrals/no-such-page-tok3n-abc/"
SECRET_QUERY = "?token=s3cret-link-token"


def boom(request):
    raise RuntimeError("patient Jane Roe, born 1970-01-01")


def refuse(request):
    raise PermissionDenied("internal reason about referral 42")


urlpatterns = [
    path("test-boom/", boom),
    path("test-refuse/", refuse),
    path("api/v1/test-boom", boom),
    *root_urls.urlpatterns,
]
handler403 = root_urls.handler403
handler404 = root_urls.handler404
handler500 = root_urls.handler500


def assert_shell(response, title: str) -> str:
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert '<header class="shell' in html
    assert f"<h1>{title}</h1>" in html
    assert 'rel="icon"' in html
    for secret in ("tok3n", "s3cret", "Jane Roe", "1970-01-01", "referral 42", "RuntimeError"):
        assert secret not in html
    return html


def test_an_unknown_url_is_a_branded_404_that_does_not_echo_the_path(client, org):
    response = client.get(SECRET_PATH + SECRET_QUERY)
    assert response.status_code == 404
    html = assert_shell(response, "Not found")
    assert escape(org.name) in html
    assert 'class="nav-items"' not in html  # signed out: no navigation


def test_staff_get_their_navigation_on_the_404(client, cora):
    client.force_login(cora)
    html = assert_shell(client.get(SECRET_PATH), "Not found")
    assert "<span>Worklist</span>" in html


def test_a_portal_user_gets_the_portal_frame_and_no_staff_navigation(client, pam):
    client.force_login(pam)
    html = assert_shell(client.get(SECRET_PATH), "Not found")
    assert "portal-shell" in html
    assert "<span>Our referrals</span>" in html
    assert "<span>Worklist</span>" not in html
    assert "Notifications:" not in html


def test_a_session_at_the_second_factor_step_sees_no_navigation_on_the_404(client, ada, settings):
    settings.MFA_ENFORCED = True  # ada is an admin without a second factor: must enrol
    client.force_login(ada)
    html = assert_shell(client.get(SECRET_PATH), "Not found")
    assert 'class="nav-items"' not in html


@pytest.mark.urls("tests.web.test_edges")
def test_permission_denied_is_a_branded_403_without_its_reason(client, cora):
    client.force_login(cora)
    response = client.get("/test-refuse/")
    assert response.status_code == 403
    assert_shell(response, "Not allowed")


def test_the_workspace_refusal_uses_the_same_page(client, pam):
    client.force_login(pam)
    response = client.get("/referrals/")
    assert response.status_code == 403
    html = assert_shell(response, "Not allowed")
    assert "Referring practices use the referral portal." in html


@pytest.mark.urls("tests.web.test_edges")
def test_a_server_error_is_a_branded_500_without_the_exception(cora):
    client = Client(raise_request_exception=False)
    client.force_login(cora)
    response = client.get("/test-boom/" + SECRET_QUERY)
    assert response.status_code == 500
    html = assert_shell(response, "Something went wrong")
    # Rendered without the request: no user, no navigation.
    assert "cora" not in html
    assert 'class="nav-items"' not in html


def test_the_500_page_renders_without_a_database(rf):
    # No django_db mark: any query would fail the test.
    request = rf.get(SECRET_PATH)
    response = edges.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_a_csrf_failure_is_a_branded_page_saying_what_to_do(cora):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cora)
    response = client.post("/password/", {"old_password": "x"})
    assert response.status_code == 403
    html = assert_shell(response, "Please reload the page")
    assert "Reload the page and try again" in html
    assert "cookies" in html
    assert "CSRF cookie not set" not in html and "Referer" not in html


def test_api_paths_keep_answering_json(client, org):
    response = client.get("/api/v1/no-such-thing" + SECRET_QUERY)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "field": None}


@pytest.mark.urls("tests.web.test_edges")
def test_an_api_server_error_answers_json_without_the_exception(org):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test-boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side.", "field": None}


def test_favicon_ico_answers_with_the_shells_icon(client, org):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("/web/favicon.svg")
    assert "max-age" in response["Cache-Control"]


def test_a_nul_character_in_a_page_query_is_a_400_page_that_repeats_nothing(client, cora):
    client.force_login(cora)
    answer = client.get("/referrals/", {"q": "Quarr\x00ington"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "q must not contain a NUL character" in page
    assert "Quarr" not in page
    assert "<main" in page  # the shell's look, not a bare text answer


def test_a_nul_character_in_a_posted_form_is_refused_before_the_view(client, cora, referral):
    client.force_login(cora)
    before = referral.events.count()
    url = f"/referrals/{referral.pk}/notes"
    typed = "text=call+back%00"
    answer = client.post(url, typed, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400
    # A multipart form reaches its view, whose form field refuses the NUL itself.
    assert client.post(url, {"text": "call back\x00"}).status_code == 422
    assert referral.events.count() == before
