"""JSON-LD processing without the network: the schema.org context shipped in contexts/.

contexts/schemaorg.jsonld is schema.org's own JSON-LD context (release 12.0, as in
schemaorg/schemaorg data/releases/12.0/schemaorgcontext.jsonld; see contexts/SOURCE.md).
The document loader serves that file for schema.org's context URLs and refuses every
other URL, so expanding an export never reaches out to anything.
"""

from __future__ import annotations

import functools
import importlib.resources
import json

CONTEXT_FILE = importlib.resources.files("tracker.export").joinpath("contexts", "schemaorg.jsonld")

# The URLs a document may name schema.org's context by.
SCHEMA_ORG_CONTEXT_URLS = frozenset({
    "https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/",
    "https://schema.org/docs/jsonldcontext.jsonld", "http://schema.org/docs/jsonldcontext.jsonld",
    "https://schema.org/docs/jsonldcontext.json", "http://schema.org/docs/jsonldcontext.json",
})


@functools.cache
def schema_org_context() -> dict:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))


def document_loader(url, options=None):
    """A pyld document loader that serves only the shipped schema.org context."""
    from pyld.jsonld import JsonLdError

    if url not in SCHEMA_ORG_CONTEXT_URLS:
        raise JsonLdError(f"Refusing to load {url}: only the shipped schema.org context is served",
                          "jsonld.LoadDocumentError", {"url": url}, code="loading document failed")
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": schema_org_context()}


def expand(doc):
    """The expanded form of ``doc`` (JSON-LD 1.1), offline."""
    from pyld import jsonld

    return jsonld.expand(doc, {"documentLoader": document_loader})
