"""The semantic risk layer through POST /v1/fallback: risky wordings the lexicon does not know are never
auto-sent with an answer not flagged safe (paraphrases and exact repeats), harmless questions still are."""

from __future__ import annotations

from sqlalchemy import select

from fallback.store import answers as answers_repo
from fallback.store.schema import Candidate, Event
from tests.fallback.conftest import call

# (approved question, its paraphrases, a paraphrase the customer sends); none holds a lexicon word
RISKY = [
    ("擦了你们家的面霜脸上起了好多红疙瘩", ["用了你们的面霜脸上长了好多红疙瘩"], "用了你们家的面霜，脸上起了好多红疙瘩"),  # noqa: E501
    ("那个暖风机插上电就冒黑烟，吓死人了", ["暖风机一插电就冒黑烟"], "暖风机插上电就冒黑烟了，吓死我了"),
    ("耽误了我整整一周，这些损失你们打算怎么弥补", ["耽误我一周的损失怎么弥补"], "耽误了我一整周，这个损失你们准备怎么弥补"),  # noqa: E501
]


def test_risky_paraphrases_and_repeats_go_to_review_and_harmless_questions_are_answered(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    assert rt.safety.semantic is not None
    for question, keys, _ in RISKY:
        assert not rt.safety.risk_signals(question)  # only the semantic layer can see these
        rt.db.run(lambda s, q=question, k=keys: answers_repo.create(
            s, question=q, text="您好，非常抱歉，我们马上为您处理。", keys=k, actor="test",
            safe_to_autosend=False,
        ))
    rt.db.run(lambda s: answers_repo.create(
        s, question="发票抬头写错了能改吗", text="您好，可以在订单详情里申请换开。", keys=["发票抬头能改吗"],
        actor="test", safe_to_autosend=False,
    ))
    rt.index.reconcile()

    for i, (question, _, paraphrase) in enumerate(RISKY):
        para = call(url, paraphrase, message_id=f"p{i}").json()
        assert para["action"] == "pending_review" and para["reason"] == "risk_topic", (paraphrase, para)
        for n in range(2):  # the second is served from the exact-repeat cache
            exact = call(url, question, message_id=f"e{i}-{n}").json()
            assert exact["action"] == "pending_review" and exact["reason"] == "risk_topic", (question, exact)
            assert exact["confidence"] == 1.0  # an exact key: it would have been sent without the layer

    harmless = call(url, "怎么退货", message_id="h1").json()  # demo answer, not flagged safe
    assert harmless["action"] == "answer" and "退货" in harmless["answer"], harmless
    invoice = call(url, "发票抬头写错了能改吗", message_id="h2").json()
    assert invoice["action"] == "answer" and invoice["reason"] == "matched", invoice

    with rt.db.session() as s:
        risky_events = s.scalars(select(Event).where(Event.reason == "risk_topic")).all()
        assert len(risky_events) == 3 * len(RISKY)
        contexts = [c.context for c in s.scalars(select(Candidate)).all()]
        labels = {t for ctx in contexts for t in ctx.get("risk_terms", [])}
        assert {"semantic:medical", "semantic:safety", "semantic:compensation"} <= labels


def test_safe_answers_are_still_sent_for_risky_wordings(start_server) -> None:  # type: ignore[no-untyped-def]
    rt, url = start_server()
    question = "那个暖风机插上电就冒黑烟，吓死人了"
    rt.db.run(lambda s: answers_repo.create(
        s, question=question, text="请立即断电并远离，我们的安全专员会马上联系您。", actor="test",
        safe_to_autosend=True,
    ))
    rt.index.reconcile()
    r = call(url, question, message_id="m1").json()
    assert r["action"] == "answer" and "断电" in r["answer"]
