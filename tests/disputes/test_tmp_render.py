import pytest
from tests import factories
from tests.disputes.case_states import bring_to
from disputes.models import CannedReply
from disputes.services.conversation import message_post

def test_render(client, policy, buyer, seller, agent, senior):
    case = bring_to("in_mediation", factories.case(order_=factories.order(buyer=buyer, seller=seller)), agent=agent)
    message_post(case=case, author=agent, body="secret note", internal=True)
    message_post(case=case, author=buyer, body="hello <b>x</b>")
    CannedReply.objects.create(title="Hi", body="Hello {buyer_name}, about {reference} {item} by {deadline} - {agent_name} {unknown}")
    client.force_login(agent)
    r = client.get("/console/")
    assert r.status_code == 200, r.content
    open("/tmp/scratch/queue.html","w").write(r.content.decode())
    r = client.get(f"/console/cases/{case.reference}/")
    assert r.status_code == 200
    open("/tmp/scratch/case.html","w").write(r.content.decode())
    r = client.get("/console/?fragment=1&state=in_mediation")
    open("/tmp/scratch/frag.html","w").write(r.content.decode())
    r = client.post(f"/console/cases/{case.reference}/canned/", {"reply": CannedReply.objects.get().pk}, HTTP_ACCEPT="application/json")
    print(r.json())
    client.force_login(buyer)
    r = client.get(case.get_absolute_url())
    open("/tmp/scratch/party.html","w").write(r.content.decode())
    assert "secret note" not in r.content.decode()
