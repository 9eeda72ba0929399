import xml.etree.ElementTree as ET

import segno

from emm_portal.domain.invitation_qr import invitation_url, qr_svg

TOKEN = "eyJhbGciOiJFZERTQSJ9." + "x" * 300 + ".signature_-"


def test_the_invitation_url_is_the_portal_page_of_the_token():
    assert invitation_url("https://tot.example.org/", "a.b-c_d") == "https://tot.example.org/invitations/a.b-c_d"
    assert invitation_url("http://127.0.0.1:8004", "a/b") == "http://127.0.0.1:8004/invitations/a%2Fb"


def test_the_qr_code_is_an_inline_svg_without_style_sized_in_pixels_and_scalable():
    url = invitation_url("http://127.0.0.1:8004", TOKEN)
    svg = qr_svg(url, "Invitation to <EMM2.0 ToT>")
    root = ET.fromstring(str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    modules = segno.make(url, error="m").symbol_size(border=4)[0]
    assert root.get("viewBox") == f"0 0 {modules} {modules}"
    assert root.get("width") == root.get("height") == str(modules * 4)
    assert root.get("role") == "img" and root.get("aria-label") == "Invitation to <EMM2.0 ToT>"
    assert all("style" not in element.attrib for element in root.iter())
    assert "&lt;EMM2.0 ToT&gt;" in svg


def test_an_invitation_link_fits_a_code_a_phone_reads_from_a_printed_page():
    code = segno.make(invitation_url("https://tot.example.org", TOKEN), error="m")
    assert code.error in ("M", "Q", "H") and code.version <= 15  # at most 77 modules
