"""Seed files are read by a faster path than PyYAML's generic constructor (issue 14: the
YAML constructor was most of a cold build); it must give exactly what PyYAML gives, and
the same errors."""

import pathlib

import hypothesis.strategies as st
import pytest
import yaml
from hypothesis import given, settings

from tracker import seeds

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Reference(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's own safe loading, with the seeds' resolvers (dates stay strings)."""


Reference.yaml_implicit_resolvers = seeds.SeedLoader.yaml_implicit_resolvers


def reference(raw: bytes):
    return yaml.load(raw, Loader=Reference)


SNIPPETS = {
    "strings and numbers": "id: a\ncount: 12\nhex: 0x1f\noctal: 0o17\nsexagesimal: 1:30\nfloat: 1.5e3\ninf: .inf\n",
    "booleans and nulls": "a: yes\nb: No\nc: true\nd: ~\ne: null\nf:\n'': empty key\n",
    "dates stay strings": "published: 2020-01-07\nyear: 2020\nwhen: 2001-12-14t21:59:43.10-05:00\n",
    "quoted and folded": "t: 'it''s'\nu: \"tab\\there\"\nv: >-\n  folded\n  text\nw: |\n  literal\n  text\n",
    "nested": "claims:\n  - id: x\n    tags: [a, b]\n    via: []\n  - ref: y\nlinks: {}\n",
    "merge key": "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
    "merge key without anchor": "other:\n  <<: {x: 1}\n  y: 2\n",
    "explicit tags": "a: !!str 12\nb: !!int '7'\nc: !!binary aGVsbG8=\nd: !!set {x, y}\ne: !!omap [x: 1]\n",
    "duplicate keys": "a: 1\na: 2\n",
    "numbers as keys": "1: one\n2.5: two\nnull: three\n",
    "empty document": "",
    "only a comment": "# nothing\n",
    "a list at the top": "- id: a\n- id: b\n",
    "value key": "=: v\n",
    "deep nesting": "a: " + "[" * 300 + "]" * 300 + "\n",
}


@pytest.mark.parametrize("text", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_the_fast_path_loads_what_pyyaml_loads(text):
    raw = text.encode()
    assert seeds.load_yaml(raw) == reference(raw)


ERRORS = {
    "unhashable key": "? [a, b]\n: value\n",
    "unknown tag": "a: !python/object:os.system echo\n",
    "bad indentation": "a:\n  - b\n c: d\n",
    "two documents": "a: 1\n---\nb: 2\n",
}


@pytest.mark.parametrize("text", ERRORS.values(), ids=ERRORS.keys())
def test_the_fast_path_fails_as_pyyaml_fails(text):
    raw = text.encode()
    with pytest.raises(yaml.YAMLError) as expected:
        reference(raw)
    with pytest.raises(yaml.YAMLError) as got:
        seeds.load_yaml(raw)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


scalars = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False), st.sampled_from(["yes", "No", "~", "2020-01", "0x10", "1:20", ""]))
trees = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(trees, st.sampled_from([None, False, True]))
def test_the_fast_path_agrees_on_any_dumped_tree(tree, flow):
    raw = yaml.safe_dump({"root": tree}, default_flow_style=flow, allow_unicode=True).encode()
    assert seeds.load_yaml(raw) == reference(raw)


def test_the_project_seeds_load_the_same():
    files = sorted((ROOT / "seeds").rglob("*.yml"))
    assert files
    for path in files:
        raw = path.read_bytes()
        assert seeds.load_yaml(raw) == reference(raw), path
