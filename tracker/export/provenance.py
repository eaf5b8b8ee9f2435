"""W3C PROV (PROV-DM) of claims, built with the ``prov`` library; serialised as PROV-JSON,
PROV-N or PROV-O (Turtle, through prov's rdf serializer and rdflib).

The model (README, "Exports"):

* each claim is an entity ``claim:<id>``, ``wasAttributedTo`` its origin, with
  ``hadPrimarySource`` the first document in which its origin is recorded;
* each document is an entity ``document:<id>`` (a collection of the claims' appearances
  in it), ``wasAttributedTo`` its publisher;
* each source (origin, relay, publisher) is an agent ``source:<public id>``;
* each appearance is the chain the claim travelled, one entity per teller, every one a
  ``specializationOf`` the claim and ``wasAttributedTo`` its teller: the origin's telling
  ``appearance:<document>/<position>/0``, each relay's telling ``.../1``, ``.../2`` ...
  ``wasDerivedFrom`` the one before it, and the document's own telling
  ``appearance:<document>/<position>`` ``wasQuotedFrom`` the last of them (the quote is
  the document's verbatim text) and a member of the document. Where the origin is
  recorded earlier in another document, that document is the appearance's
  ``hadPrimarySource``;
* each public review decision is an activity ``review:<id>`` that ``used`` the claim,
  ``wasAssociatedWith`` the review team (never a reviewer's name: the public file has none).
"""

from __future__ import annotations

import itertools
import json

from .read import Appearance

VOCABULARY = "urn:x-claim-tracker:vocabulary#"
SCHEMA = "http://schema.org/"

PERSON_TYPES = {"informant", "defector", "academic"}


def namespaces(doc, base: str):
    base = base.rstrip("/") + "/tracker/"
    return {
        "claim": doc.add_namespace("claim", base + "claims/"),
        "document": doc.add_namespace("document", base + "documents/"),
        "source": doc.add_namespace("source", base + "sources/"),
        "appearance": doc.add_namespace("appearance", base + "appearances/"),
        "review": doc.add_namespace("review", base + "review_events/"),
        "tracker": doc.add_namespace("tracker", base),
        "t": doc.add_namespace("t", VOCABULARY),
        "schema": doc.add_namespace("schema", SCHEMA),
    }


def _attributes(pairs):
    """Attribute pairs without the empty ones (PROV has no null)."""
    return [(key, value) for key, value in pairs if value is not None and value != []]


def step_id(appearance: Appearance, step: int | None = None) -> str:
    local = f"{appearance.document_id}/{appearance.position}"
    return local if step is None else f"{local}/{step}"


def chain(appearance: Appearance) -> list:
    """The tellers of an appearance in the order the claim travelled: origin, relays, publisher."""
    return [appearance.source_id, *appearance.via, appearance.publisher_id]


def build(claims, sources: dict, base_url: str):
    """A ProvDocument for ``claims`` (read.Claim objects) and the sources they name."""
    from prov.model import PROV, PROV_LABEL, PROV_TYPE, ProvDocument

    doc = ProvDocument()
    ns = namespaces(doc, base_url)
    t, schema = ns["t"], ns["schema"]
    agents, documents = set(), set()

    def agent(source_id):
        if source_id not in agents:
            agents.add(source_id)
            s = sources[source_id]
            doc.agent(ns["source"][source_id], _attributes([
                (PROV_TYPE, PROV["Person"] if s["type"] in PERSON_TYPES else PROV["Organization"]),
                (PROV_LABEL, s["name"]),
                (t["sourceType"], s["type"]),
                (t["reliability"], s["reliability"]),
                (t["independenceGroup"], s["independence_group"]),
                (t["sensitivity"], s["sensitivity"]),
                (schema["url"], s.get("url")),
            ]))
        return ns["source"][source_id]

    def document(appearance):
        if appearance.document_id not in documents:
            documents.add(appearance.document_id)
            entity = doc.entity(ns["document"][appearance.document_id], _attributes([
                (PROV_TYPE, schema["CreativeWork"]),
                (PROV_TYPE, PROV["Collection"]),
                (PROV_LABEL, appearance.title),
                (schema["headline"], appearance.title),
                (schema["datePublished"], appearance.published),
                (schema["url"], appearance.url),
                *((schema["author"], name) for name in appearance.authors),
            ]))
            doc.wasAttributedTo(entity, agent(appearance.publisher_id))
        return ns["document"][appearance.document_id]

    team = None
    for claim in claims:
        claim_entity = doc.entity(ns["claim"][claim.id], _attributes([
            (PROV_TYPE, schema["Claim"]),
            (PROV_LABEL, claim.text),
            (t["kind"], claim.kind),
            (t["occurred"], claim.occurred),
            (t["firstSeen"], claim.first_seen),
            (t["status"], claim.status),
            (t["supportGroups"], claim.support_groups),
            (t["oppositionGroups"], claim.opposition_groups),
            (t["credibility"], claim.credibility),
            (t["credibilityBy"], claim.credibility_by),
            (t["admiralty"], claim.admiralty),
            (t["reviewState"], claim.review_state),
            *((t["tag"], tag) for tag in claim.tags),
        ]))
        doc.wasAttributedTo(claim_entity, agent(claim.origin_id))

        # each origin's first document (appearances come in order of publication)
        first_document = {}
        for appearance in claim.appearances:
            first_document.setdefault(appearance.source_id, appearance.document_id)
        if claim.origin_id in first_document:
            doc.hadPrimarySource(claim_entity, ns["document"][first_document[claim.origin_id]])

        for appearance in claim.appearances:
            document_entity = document(appearance)
            tellers = chain(appearance)
            previous = None
            for step, teller in enumerate(tellers[:-1]):
                telling = doc.entity(ns["appearance"][step_id(appearance, step)], _attributes([
                    (PROV_TYPE, t["Telling"]),
                    (t["step"], step),
                ]))
                doc.specializationOf(telling, claim_entity)
                doc.wasAttributedTo(telling, agent(teller))
                if previous is not None:
                    doc.wasDerivedFrom(telling, previous)  # a relay retells what it was told
                previous = telling
            published = doc.entity(ns["appearance"][step_id(appearance)], _attributes([
                (PROV_TYPE, t["Appearance"]),
                (t["stance"], appearance.stance),
                (t["quote"], appearance.quote),
                (t["verified"], bool(appearance.verified)),
            ]))
            doc.specializationOf(published, claim_entity)
            doc.wasAttributedTo(published, agent(appearance.publisher_id))
            doc.wasQuotedFrom(published, previous)  # the document quotes its teller
            doc.hadMember(document_entity, published)
            first = first_document[appearance.source_id]
            if first != appearance.document_id:
                doc.hadPrimarySource(published, ns["document"][first])

        for event in claim.reviews:
            if team is None:
                team = doc.agent(ns["tracker"]["review-team"], [
                    (PROV_TYPE, PROV["Organization"]), (PROV_LABEL, "the review team")])
            activity = doc.activity(ns["review"][event["id"]], event["created_at"], event["created_at"],
                                    _attributes([(PROV_TYPE, t["Review"]), (t["action"], event["action"]),
                                                 (t["credibility"], event["credibility"])]))
            doc.used(activity, claim_entity)
            doc.wasAssociatedWith(activity, team)
    return doc


def to_json(doc) -> str:
    return doc.serialize(format="json", indent=2) + "\n"


def to_turtle(doc) -> str:
    return doc.serialize(format="rdf", rdf_format="turtle")


# Claims per PROV document when writing in pieces.
TURTLE_CHUNK = 500
JSON_CHUNK = 500


def json_pieces(claims, sources: dict, base_url: str, chunk: int = JSON_CHUNK):
    """PROV-JSON of all ``claims`` as one document, built and encoded by prov one
    ``chunk`` of claims at a time, so that memory is bounded by the chunk.

    PROV-JSON groups records by kind ({"entity": {...}, "agent": {...}, ...}), so the
    encoded records of each kind are kept in a temporary file until all are encoded,
    then the files are written out in turn. A source or document that several chunks
    name is written once; prov's anonymous relation ids (``_:id1`` ...) are made unique
    across chunks (``_:c2id1``)."""
    import tempfile

    from prov.serializers.provjson import encode_json_document

    prefixes, kinds, seen = {}, {}, set()
    try:
        batch, index = [], 0
        for claim in itertools.chain(claims, [None]):  # None: the end
            if claim is not None:
                batch.append(claim)
                if len(batch) < chunk:
                    continue
            elif batch == [] and index > 0:
                break
            container = encode_json_document(build(batch, sources, base_url))
            prefixes.update(container.pop("prefix", {}))
            for kind, records in container.items():
                handle = kinds.get(kind)
                if handle is None:
                    handle = kinds[kind] = tempfile.TemporaryFile("w+", encoding="utf-8")
                for key, value in records.items():
                    if key.startswith("_:"):
                        key = f"_:c{index}{key[2:]}"
                    elif key in seen:
                        continue
                    else:
                        seen.add(key)
                    handle.write(json.dumps(key, ensure_ascii=False) + ": " + json.dumps(value, ensure_ascii=False) + "\n")
            batch, index = [], index + 1
        yield "{\n" + f'"prefix": {json.dumps(prefixes, ensure_ascii=False)}'
        for kind, handle in kinds.items():
            yield f",\n{json.dumps(kind)}: {{\n"
            handle.seek(0)
            separator = ""
            for line in handle:
                yield separator + line.rstrip("\n")
                separator = ",\n"
            yield "\n}"
        yield "\n}\n"
    finally:
        for handle in kinds.values():
            handle.close()


def turtle_pieces(claims, sources: dict, base_url: str, chunk: int = TURTLE_CHUNK):
    """PROV-O as Turtle, one PROV document per ``chunk`` claims, written one after the
    other: a Turtle file may declare its prefixes again, and the graph of the whole is
    the union of the pieces' graphs (a source or document named in two pieces gives the
    same triples twice, which RDF counts once; qualified relations are blank nodes of
    one piece each). Memory stays bounded by the chunk, not by the export."""
    batch, written = [], False
    for claim in claims:
        batch.append(claim)
        if len(batch) == chunk:
            yield to_turtle(build(batch, sources, base_url))
            batch, written = [], True
    if batch or not written:  # no claims at all: the prefixes alone
        yield to_turtle(build(batch, sources, base_url))


def chains(doc) -> dict:
    """Read back from a ProvDocument: per appearance, its tellers in the order the claim
    travelled, [origin, relays..., publisher], following attributions and derivations
    (for tests, and for anyone checking a file)."""
    from prov.model import PROV, PROV_TYPE, ProvAttribution, ProvDerivation, ProvEntity

    attributed, derived_from, appearances = {}, {}, []
    for record in doc.get_records():
        formal = {key.localpart: value for key, value in record.formal_attributes}
        if isinstance(record, ProvAttribution):
            attributed[str(formal["entity"])] = str(formal["agent"])
        elif isinstance(record, ProvDerivation):
            if PROV["PrimarySource"] not in record.get_attribute(PROV_TYPE):
                derived_from[str(formal["generatedEntity"])] = str(formal["usedEntity"])
        elif isinstance(record, ProvEntity) and record.identifier.namespace.prefix == "appearance" \
                and record.identifier.localpart.count("/") == 1:
            appearances.append(str(record.identifier))
    result = {}
    for identifier in appearances:
        tellers, node = [], identifier
        while node is not None:
            tellers.append(attributed[node])
            node = derived_from.get(node)
        result[identifier] = list(reversed(tellers))
    return result
