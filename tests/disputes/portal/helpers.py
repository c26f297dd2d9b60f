"""Shared by the portal tests: one-time tokens, evidence files, and reading a page as a person would."""

import io
import uuid
from decimal import Decimal
from urllib.parse import urljoin

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.html import Element, parse_html
from PIL import Image

from disputes.models import Case, Evidence, Message, Notification, Offer
from disputes.services import case_decline_claim
from feedback.models import SurveyResponse
from tests import factories

LOGIN_URL = "/accounts/login/"

# The smallest document the desk takes as a PDF: it is recognised by its first bytes.
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def token() -> str:
    """A fresh value for a form's hidden `submission` field."""
    return str(uuid.uuid4())


def image_bytes(pil_format: str, *, size=(16, 12), colour="teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, pil_format)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def photo(name: str = "shade.png") -> SimpleUploadedFile:
    return upload(name, image_bytes("PNG"), "image/png")


def footprint(case: Case) -> dict:
    """What a refused request must leave exactly as it was on a case."""
    case = Case.objects.get(pk=case.pk)
    return {
        "state": case.state,
        "history": case.history.count(),
        "offers": list(Offer.objects.filter(case=case).values_list("pk", "status", "buyer_answer", "seller_answer")),
        "messages": Message.objects.filter(case=case).count(),
        "evidence": Evidence.objects.filter(case=case).count(),
        "return_shipped_at": case.return_shipped_at,
        "ratings": SurveyResponse.objects.filter(case=case).count(),
        "notifications": Notification.objects.filter(case=case).count(),
    }


def money(value: str) -> Decimal:
    return Decimal(value)


class Page:
    """A rendered page read through its elements rather than its markup."""

    def __init__(self, response):
        self.response = response
        self.html = response.content.decode()
        self.root = parse_html(self.html)

    def select(self, tag: str | None = None, *, cls: str | None = None, **attrs) -> list[Element]:
        return select(self.root, tag, cls=cls, **attrs)

    def one(self, tag: str | None = None, *, cls: str | None = None, **attrs) -> Element:
        found = self.select(tag, cls=cls, **attrs)
        assert len(found) == 1, f"expected one <{tag or '*'} class={cls} {attrs}>, found {len(found)}"
        return found[0]

    @property
    def text(self) -> str:
        """The page's visible text (the body), whitespace collapsed."""
        return text_of(self.select("body")[0])

    @property
    def form_actions(self) -> list[str]:
        return [dict(form.attributes).get("action", "") for form in self.select("form")]

    def links_to(self, href: str) -> list[Element]:
        return self.select("a", href=href)

    @property
    def alerts(self) -> list[str]:
        """Error texts shown next to fields or forms."""
        return [text_of(element) for element in self.select(role="alert")]

    @property
    def flashes(self) -> list[str]:
        return [text_of(element) for element in self.select("li", cls="message")]


def case_references(page: Page) -> list[str]:
    """The references of the case rows a list page shows, in order."""
    refs = []
    for row in page.select("li", cls="case-row"):
        [link] = select(row, "a")
        refs.append(attr(link, "href").rstrip("/").rsplit("/", 1)[-1])
    return refs


def order_ids(page: Page) -> list[str]:
    """The order numbers of the rows "My orders" shows, in order, as written in the Order column."""
    ids = []
    for row in page.select("tr", cls="order-row"):
        [cell] = select(row, "td", data_label="Order")
        ids.append(next(child for child in cell.children if isinstance(child, str)).strip())
    return ids


def next_link(page: Page) -> str | None:
    found = page.select("a", rel="next")
    return attr(found[0], "href") if found else None


def every_page(client, url: str, rows=case_references) -> list[list[str]]:
    """What `rows` reads on each page (the case references unless told), following "next" links
    from `url` to the end."""
    pages = []
    while url:
        assert len(pages) < 20, "the pages never end"
        page = Page(client.get(url))
        assert page.response.status_code == 200
        pages.append(rows(page))
        following = next_link(page)
        url = urljoin(url, following) if following else None
    return pages


def select(within: Element, tag: str | None = None, *, cls: str | None = None, **attrs) -> list[Element]:
    """Elements under `within` by tag, class and exact attribute values (`data_x` means `data-x`)."""
    wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
    return [element for element in _walk(within) if _matches(element, tag, cls, wanted)]


def text_of(element) -> str:
    if isinstance(element, str):
        return element
    return " ".join(part for part in (text_of(child) for child in element.children) if part).strip()


def attr(element: Element, name: str):
    return dict(element.attributes).get(name)


def _walk(element):
    for child in element.children:
        if isinstance(child, Element):
            yield child
            yield from _walk(child)


def _matches(element: Element, tag, cls, wanted) -> bool:
    if tag and element.name != tag:
        return False
    attributes = dict(element.attributes)
    if cls and cls not in (attributes.get("class") or "").split():
        return False
    return all(attributes.get(name, object()) == value for name, value in wanted.items())


# The case page's actions

FILING = {
    "reason": "damaged",
    "requested_outcome": "partial_refund",
    "amount_claimed": "30.00",
    "description": "The shade was cracked in the box.",
}


def declined(case, **staff):
    case_decline_claim(case=case, seller=case.seller, note="As described.")
    return Case.objects.get(pk=case.pk)


def action_url(case, name):
    return f"{case.get_absolute_url()}actions/{name}/"


def new_case(buyer, seller, title="Walnut desk lamp", **filing):
    return factories.case(order_=factories.order(buyer=buyer, seller=seller, item_title=title), **filing)
