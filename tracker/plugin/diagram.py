"""The claim page's picture of a claim's trail: inline SVG drawn here (no network).

One node per source (origin, relay or publisher; a source that is both origin and
publisher is one node), arrows in the direction the claim travelled (origin -> relays ->
publisher -> this claim), origins coloured by their independence group, and the claims
linked to this one beside it. Chains that repeat are drawn once with a count, and each
column shows at most COLUMN_LIMIT nodes (the rest as one "+N more" node), so a claim
repeated by hundreds of documents stays readable.

Every piece of text is escaped (markupsafe.escape): names and claim texts are data.
"""

import asyncio
import json

from markupsafe import Markup, escape

# One row per distinct chain: origin, relays, publisher, stance, with its count, and how
# many distinct chains there are (the window counts the groups before LIMIT).
CHAINS = """
SELECT a.source_id, a.via, d.publisher_id, a.stance, count(*) AS appearances, count(*) OVER () AS chains
FROM appearances a
JOIN documents d ON d.id = a.document_id
WHERE a.claim_id = :claim_id
GROUP BY a.source_id, a.via, d.publisher_id, a.stance
ORDER BY appearances DESC, a.source_id
LIMIT :limit
"""

SOURCES = """
SELECT id, name, type, independence_group FROM sources
WHERE id IN (SELECT value FROM json_each(:ids))
"""

# Where the support and the opposition come from, group by group: the claim's own
# appearances, and the asserting appearances of each linked claim (a rejected claim lends
# nothing, as in analysis.sql's claim_evidence).
GROUPS = """
SELECT 'own' AS through, NULL AS other_claim_id,
       CASE a.stance WHEN 'asserts' THEN 'support' ELSE 'opposition' END AS side,
       s.independence_group, json_group_array(DISTINCT s.id) AS origins, count(*) AS appearances
FROM appearances a JOIN sources s ON s.id = a.source_id
WHERE a.claim_id = :claim_id
GROUP BY a.stance, s.independence_group
UNION ALL
SELECT l.relation, l.other_claim_id,
       CASE l.relation WHEN 'corroborates' THEN 'support' ELSE 'opposition' END,
       s.independence_group, json_group_array(DISTINCT s.id), count(*)
FROM claim_links l
JOIN claims o ON o.id = l.other_claim_id AND o.review_decision IS NOT 'reject'
JOIN appearances a ON a.claim_id = o.id AND a.stance = 'asserts'
JOIN sources s ON s.id = a.source_id
WHERE l.claim_id = :claim_id
GROUP BY l.relation, l.other_claim_id, s.independence_group
LIMIT :limit
"""

CHAIN_LIMIT = 300  # rows of GROUPS read
# Chains drawn, the most repeated first: each column shows at most COLUMN_LIMIT nodes, so
# more chains add arrows between the same few boxes, and drawing time, not information;
# the page says how many there are and links to the full trail.
CHAINS_DRAWN = 60
COLUMN_LIMIT = 12
# The groups listed by name on each side, the heaviest first: a claim repeated across the
# corpus has hundreds, which the full trail (claim_trail) lists appearance by appearance.
GROUPS_SHOWN = 12
PALETTE = ["#cfe2ff", "#ffe5b4", "#d1f2d1", "#f8d7da", "#e2d9f3", "#fff3b0", "#d0f0f0", "#f3d9e9",
           "#e0e0e0", "#dcedc8"]
NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 190, 40, 70, 14, 10


def shorten(text, width=28):
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def group_label(group, names, members=()):
    """A group in words: a source's own name, 'anonymous sources of X', or its members' names."""
    if group.startswith("outlet:"):
        outlet = group[len("outlet:"):]
        return f"anonymous sources of {names.get(outlet, {}).get('name', outlet)}"
    if group in names:
        return names[group]["name"]
    if members:
        shown = ", ".join(members[:3]) + (f" and {len(members) - 3} more" if len(members) > 3 else "")
        return f"one group: {shown}"
    return group


async def trail(db, claim_id, links):
    """Everything the claim page shows about the trail: the SVG and the groups, in names."""
    params = {"claim_id": claim_id, "limit": CHAIN_LIMIT}
    chains, groups = await asyncio.gather(db.execute(CHAINS, {**params, "limit": CHAINS_DRAWN}),
                                          db.execute(GROUPS, params))
    chains, groups = [dict(r) for r in chains.rows], [dict(r) for r in groups.rows]
    chain_count = chains[0]["chains"] if chains else 0
    ids = set()
    for chain in chains:
        chain["via"] = json.loads(chain["via"] or "[]")
        ids.update([chain["source_id"], chain["publisher_id"], *chain["via"]])
    for group in groups:
        group["origins"] = json.loads(group["origins"])
        ids.update(group["origins"][:50])
        ids.add(group["independence_group"])
        if group["independence_group"].startswith("outlet:"):
            ids.add(group["independence_group"][len("outlet:"):])
    names = {r["id"]: dict(r) for r in (await db.execute(SOURCES, {"ids": json.dumps(sorted(ids))})).rows}
    colours = {}
    for group in sorted({g["independence_group"] for g in groups} | {names[c["source_id"]]["independence_group"]
                                                                    for c in chains if c["source_id"] in names}):
        colours[group] = PALETTE[len(colours) % len(PALETTE)]
    summary = summarise_groups(groups, names, colours)
    labels = {g["group"]: g["label"] for g in summary}
    shown, more = [], {"support": 0, "opposition": 0}
    for g in summary:
        if sum(s["side"] == g["side"] for s in shown) < GROUPS_SHOWN:
            shown.append(g)
        else:
            more[g["side"]] += 1
    return {
        "group_labels": labels,
        "svg": draw(chains, names, colours, links),
        "groups": shown,
        "groups_more": more if any(more.values()) else None,
        "chains_drawn": len(chains),
        "chain_count": chain_count,
        "names": names,
    }


def summarise_groups(groups, names, colours):
    """One entry per (side, group): its name, its origins' names and where it comes from."""
    merged = {}
    for g in groups:
        key = (g["side"], g["independence_group"])
        entry = merged.setdefault(key, {
            "side": g["side"], "group": g["independence_group"],
            "label": None,
            "colour": colours.get(g["independence_group"], "#eee"),
            "origins": [], "through": [],
        })
        for origin in g["origins"]:
            name = names.get(origin, {}).get("name", origin)
            if name not in entry["origins"]:
                entry["origins"].append(name)
        entry["through"].append({"own": g["through"] == "own", "other_claim_id": g["other_claim_id"],
                                 "relation": g["through"], "appearances": g["appearances"]})
    for entry in merged.values():
        entry["label"] = group_label(entry["group"], names, entry["origins"])
        entry["appearances"] = sum(t["appearances"] for t in entry["through"])
    return sorted(merged.values(), key=lambda e: (e["side"] != "support", -e["appearances"], e["label"]))


def layers(chains):
    """Column of each node: the longest path to it from an origin (cycles cut)."""
    column = {}
    for _ in range(8):  # chains are short; a few passes settle any order
        changed = False
        for chain in chains:
            for position, node in enumerate(chain):
                want = 0 if position == 0 else column.get(chain[position - 1], 0) + 1
                if want > column.get(node, -1) and want < 16:
                    column[node] = want
                    changed = True
        if not changed:
            break
    return column


def draw(chains, names, colours, links) -> Markup:
    paths = []  # (nodes of the chain, stance, count)
    for c in chains:
        nodes = [c["source_id"], *c["via"], c["publisher_id"]]
        deduped = [n for i, n in enumerate(nodes) if i == 0 or n != nodes[i - 1]]
        paths.append((deduped, c["stance"], c["appearances"]))
    column = layers([p[0] for p in paths])
    # a source that only ever publishes stands in the publishers' column
    inner = {n for nodes, _, _ in paths for n in nodes[:-1]}
    last = max(column.values(), default=0)
    for nodes, _, _ in paths:
        if nodes[-1] not in inner:
            column[nodes[-1]] = last
    claim_col = last + 1
    link_col = claim_col + 1

    # Order nodes within a column by how many appearances pass through them.
    weight = {}
    origins = set()
    for nodes, _, n in paths:
        origins.add(nodes[0])
        for node in nodes:
            weight[node] = weight.get(node, 0) + n
    by_column = {}
    for node in sorted(column, key=lambda n: (-weight.get(n, 0), n)):
        by_column.setdefault(column[node], []).append(node)
    # fewer crossings: after the first column, order nodes by their predecessors' rows
    predecessors = {}
    for nodes, _, _ in paths:
        for a, b in zip(nodes, nodes[1:]):
            predecessors.setdefault(b, set()).add(a)
    row_of = {}
    for col in sorted(by_column):
        nodes = by_column[col]
        if col > 0:
            def centre(node):
                rows = [row_of[p] for p in predecessors.get(node, ()) if p in row_of]
                return sum(rows) / len(rows) if rows else len(row_of)
            nodes.sort(key=lambda n: (centre(n), -weight.get(n, 0), n))
        for row, node in enumerate(nodes):
            row_of[node] = row
    place, overflow = {}, {}
    for col, nodes in by_column.items():
        shown, rest = nodes[:COLUMN_LIMIT], nodes[COLUMN_LIMIT:]
        for row, node in enumerate(shown):
            place[node] = (col, row)
        if rest:
            overflow[col] = rest
            for node in rest:
                place[node] = (col, len(shown))  # all drawn as one "+N more" node
    links = links[:COLUMN_LIMIT]
    rows = max([len(v[:COLUMN_LIMIT]) + (1 if k in overflow else 0) for k, v in by_column.items()] + [1, len(links)])
    width = PAD * 2 + (link_col + 1) * NODE_W + link_col * COL_GAP
    height = PAD * 2 + rows * (NODE_H + ROW_GAP) + 20

    def xy(col, row):
        return PAD + col * (NODE_W + COL_GAP), PAD + 20 + row * (NODE_H + ROW_GAP)

    parts = [Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="trail-diagram" role="img" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" font-family="sans-serif" font-size="12">'
        '<title>Trail of the claim: origins on the left, then relays, publishers and the claim</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        '<marker id="arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b00020"/></marker>'
        '<marker id="arrow-green" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1b7f3b"/></marker></defs>'
    ).format(w=width, h=height)]
    headings = ["origins"] + ["relays"] * (claim_col - 2) + (["publishers"] if claim_col > 1 else []) + [
        "this claim"] + (["linked claims"] if links else [])
    for col, heading in enumerate(headings):
        x, _ = xy(col, 0)
        parts.append(Markup('<text x="{}" y="{}" fill="#666" font-size="11">{}</text>').format(x, PAD + 8, heading))

    # edges, merged by pair
    edges = {}
    for nodes, stance, n in paths:
        pairs = list(zip(nodes, nodes[1:])) + [(nodes[-1], "__claim__")]
        for a, b in pairs:
            key = (place.get(a), place.get(b, (claim_col, 0)), stance)
            edges[key] = edges.get(key, 0) + n
    for (start, end, stance), n in sorted(edges.items(), key=lambda e: str(e[0])):
        if start is None or start == end:
            continue
        x1, y1 = xy(*start)
        x2, y2 = xy(*end)
        x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
        if end[0] <= start[0]:  # a relay drawn left of its predecessor: a curve around
            x1, x2 = x1 - NODE_W / 2, x2 + NODE_W / 2
        red = stance == "denies"
        parts.append(Markup(
            '<path d="M{x1},{y1} C{cx1},{y1} {cx2},{y2} {x2},{y2}" fill="none" stroke="{colour}" '
            'stroke-width="{sw}"{dash} marker-end="url(#{marker})"><title>{title}</title></path>'
        ).format(x1=x1, y1=y1, x2=x2, y2=y2, cx1=(x1 + x2) / 2, cx2=(x1 + x2) / 2,
                 colour="#b00020" if red else "#555", sw=min(1 + n / 5, 4),
                 dash=Markup(' stroke-dasharray="5,3"') if red else "",
                 marker="arrow-red" if red else "arrow",
                 title=f"{n} appearance{'s' if n != 1 else ''}{' (denies)' if red else ''}"))
        if n > 1:
            parts.append(Markup('<text x="{}" y="{}" font-size="11" fill="#333">×{}</text>').format(
                (x1 + x2) / 2 - 8, (y1 + y2) / 2 - 4, n))

    drawn_overflow = set()
    for node, (col, row) in place.items():
        x, y = xy(col, row)
        if col in overflow and node in overflow[col]:
            if col in drawn_overflow:
                continue
            drawn_overflow.add(col)
            parts.append(Markup(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#f4f4f4" stroke="#999" '
                'stroke-dasharray="4,3"/><text x="{}" y="{}">+{} more</text>').format(
                x, y, NODE_W, NODE_H, x + 8, y + 24, len(overflow[col])))
            continue
        source = names.get(node, {"name": node, "type": "", "independence_group": node})
        fill = colours.get(source["independence_group"], "#fff") if node in origins else "#fff"
        parts.append(Markup(
            '<g class="node" data-source="{id}"><title>{name} ({type}); group: {group}</title>'
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="#555"/>'
            '<text x="{tx}" y="{ty}" font-weight="bold">{short}</text>'
            '<text x="{tx}" y="{ty2}" font-size="10" fill="#555">{type}</text></g>'
        ).format(id=node, name=source["name"], type=source["type"], group=source["independence_group"],
                 x=x, y=y, w=NODE_W, h=NODE_H, fill=fill, tx=x + 8, ty=y + 16, ty2=y + 31,
                 short=shorten(source["name"])))

    cx, cy = xy(claim_col, 0)
    parts.append(Markup(
        '<g class="node claim-node"><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#333"/>'
        '<text x="{}" y="{}" fill="#fff" font-weight="bold">this claim</text></g>').format(
        cx, cy, NODE_W, NODE_H, cx + 8, cy + 24))
    for row, link in enumerate(links):
        x, y = xy(link_col, row)
        green = link["relation"] == "corroborates"
        rejected = link.get("other_decision") == "reject"
        colour = "#999" if rejected else ("#1b7f3b" if green else "#b00020")
        parts.append(Markup(
            '<path d="M{x1},{y1} C{cx},{y1} {cx},{y2} {x2},{y2}" fill="none" stroke="{c}" stroke-width="1.5"'
            '{dash} marker-end="url(#{m})"/>').format(
            x1=x, y1=y + NODE_H / 2, x2=cx + NODE_W, y2=cy + NODE_H / 2, cx=(x + cx + NODE_W) / 2, c=colour,
            dash=Markup(' stroke-dasharray="3,3"') if rejected else "",
            m="arrow-green" if green else "arrow-red"))
        parts.append(Markup(
            '<g class="node linked-claim"><title>{relation}: {text}</title>'
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="#fff" stroke="{c}" stroke-width="2"/>'
            '<text x="{tx}" y="{ty}" font-size="11" fill="{c}">{label}</text>'
            '<text x="{tx}" y="{ty2}" font-size="11">{short}</text></g>').format(
            relation=link["relation"], text=link["other_text"], x=x, y=y, w=NODE_W, h=NODE_H, c=colour,
            tx=x + 8, ty=y + 15, ty2=y + 31, short=shorten(link["other_text"], 30),
            label=link["relation"] + (" (rejected)" if rejected else "")))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
