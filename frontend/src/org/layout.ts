// Positions for the organisation chart: every agent a card placed by the d3 tidy-tree layout,
// top-down (one level per rung: the agents reporting to no one on the first), the links from a
// manager's card to its reports', the drawing's size, and the transform that fits it in the
// panel (never enlarged, the top kept in view).
import { hierarchy, tree } from 'd3';
import type { OrgNode, OrgTree } from '../api/types';
import { FIT_PADDING, fitTransform, type Box, type Fit } from '../overview/fit';

/** A card's size, in drawing units (CSS pixels at scale 1). */
export const CARD_WIDTH = 208;
export const CARD_HEIGHT = 112;
/** Gap between neighbouring cards of one level. */
export const GAP_X = 24;
/** Gap between levels (the links' room). */
export const GAP_Y = 48;
/** Gap between cousins (reports of different managers), relative to siblings. */
const COUSIN_SEPARATION = 1.25;
/** A fitted chart is never shown larger than this. */
export const ORG_MAX_SCALE = 1;

export interface OrgCard {
  node: OrgNode;
  /** Top-left corner. */
  x: number;
  y: number;
  /** 0 for the agents reporting to no one. */
  level: number;
  /** The name of the agent it reports to; null on the first level. */
  manager: string | null;
}

export interface OrgLayout {
  cards: OrgCard[];
  links: { from: OrgCard; to: OrgCard }[];
  /** The drawing's size (cards from (0, 0) to (width, height)). */
  width: number;
  height: number;
  /** Levels drawn. */
  levels: number;
}

interface Shape {
  node: OrgNode | null;
  children: Shape[];
}

function shapeOf(node: OrgNode): Shape {
  return { node, children: node.children.map(shapeOf) };
}

export function layoutOrg(org: OrgTree): OrgLayout {
  const top: Shape = { node: null, children: org.children.map(shapeOf) };
  const root = hierarchy<Shape>(top, (s) => s.children);
  tree<Shape>()
    .nodeSize([CARD_WIDTH + GAP_X, CARD_HEIGHT + GAP_Y])
    .separation((a, b) => (a.parent === b.parent ? 1 : COUSIN_SEPARATION))(root);
  const placed = new Map<unknown, OrgCard>();
  const cards: OrgCard[] = [];
  const links: OrgLayout['links'] = [];
  root.each((d) => {
    if (!d.data.node) return;
    // The synthetic top takes depth 0: its children are the first level.
    const level = d.depth - 1;
    const manager = d.parent ? placed.get(d.parent) : undefined;
    const card: OrgCard = {
      node: d.data.node,
      x: (d.x ?? 0) - CARD_WIDTH / 2,
      y: level * (CARD_HEIGHT + GAP_Y),
      level,
      manager: manager?.node.name ?? null,
    };
    cards.push(card);
    placed.set(d, card);
    if (manager) links.push({ from: manager, to: card });
  });
  if (cards.length === 0) return { cards, links, width: 0, height: 0, levels: 0 };
  const left = Math.min(...cards.map((c) => c.x));
  for (const c of cards) c.x -= left;
  const levels = Math.max(...cards.map((c) => c.level)) + 1;
  return {
    cards,
    links,
    width: Math.max(...cards.map((c) => c.x)) + CARD_WIDTH,
    height: levels * CARD_HEIGHT + (levels - 1) * GAP_Y,
    levels,
  };
}

/** The elbow from a manager's card (bottom centre) to a report's (top centre). */
export function linkPath(from: OrgCard, to: OrgCard): string {
  const x0 = from.x + CARD_WIDTH / 2;
  const y0 = from.y + CARD_HEIGHT;
  const x1 = to.x + CARD_WIDTH / 2;
  const y1 = to.y;
  const mid = (y0 + y1) / 2;
  return `M${x0},${y0}V${mid}H${x1}V${y1}`;
}

/**
 * The transform that shows the whole chart in a `width` × `height` panel: scaled down to fit
 * (never up past ORG_MAX_SCALE), centred across, its top at the padding.
 */
export function fitOrg(drawing: Pick<OrgLayout, 'width' | 'height'>, width: number, height: number): Fit {
  const box: Box = { x0: 0, y0: 0, x1: Math.max(drawing.width, 1), y1: Math.max(drawing.height, 1) };
  const k = Math.min(fitTransform(box, width, height).k, ORG_MAX_SCALE);
  return { k, x: width / 2 - (k * box.x1) / 2, y: FIT_PADDING };
}
