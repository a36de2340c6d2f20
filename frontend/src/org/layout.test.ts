// Tests of the organisation chart's layout: one level per rung of the reporting line, reports
// centred under their manager without overlapping, the drawing starting at (0, 0), the links,
// and a fit that shrinks a wide chart but never enlarges a small one.
import { describe, expect, it } from 'vitest';
import { threeLevels, wideOrg } from '../test/agents';
import { CARD_HEIGHT, CARD_WIDTH, fitOrg, GAP_X, GAP_Y, layoutOrg, linkPath } from './layout';

describe('layoutOrg', () => {
  it('puts each rung on its own level, top-down, with its links', () => {
    const layout = layoutOrg(threeLevels());
    const byName = Object.fromEntries(layout.cards.map((c) => [c.node.name, c]));
    expect(layout.levels).toBe(3);
    expect(layout.cards.map((c) => [c.node.name, c.level, c.manager])).toEqual([
      ['ceo', 0, null],
      ['eng-lead', 1, 'ceo'],
      ['dev-a', 2, 'eng-lead'],
    ]);
    expect(byName.ceo.y).toBe(0);
    expect(byName['eng-lead'].y).toBe(CARD_HEIGHT + GAP_Y);
    expect(byName['dev-a'].y).toBe(2 * (CARD_HEIGHT + GAP_Y));
    // A single line of reports stands straight under its manager.
    expect(new Set(layout.cards.map((c) => c.x))).toEqual(new Set([0]));
    expect(layout.width).toBe(CARD_WIDTH);
    expect(layout.height).toBe(3 * CARD_HEIGHT + 2 * GAP_Y);
    expect(layout.links.map((l) => `${l.from.node.name}>${l.to.node.name}`)).toEqual(['ceo>eng-lead', 'eng-lead>dev-a']);
  });

  it('centres reports under their manager, keeps cards apart and places every root on the first level', () => {
    const layout = layoutOrg(wideOrg());
    const byName = Object.fromEntries(layout.cards.map((c) => [c.node.name, c]));
    expect(layout.levels).toBe(3);
    expect(byName.auditor.level).toBe(0);
    expect(byName.auditor.manager).toBeNull();
    expect(byName.acct.level).toBe(2);
    const centre = (name: string) => byName[name].x + CARD_WIDTH / 2;
    expect(centre('cto')).toBeCloseTo((centre('dev-a') + centre('dev-b')) / 2);
    expect(centre('cfo')).toBeCloseTo(centre('acct'));
    expect(Math.min(...layout.cards.map((c) => c.x))).toBe(0);
    expect(Math.max(...layout.cards.map((c) => c.x + CARD_WIDTH))).toBe(layout.width);
    for (let level = 0; level < layout.levels; level += 1) {
      const xs = layout.cards
        .filter((c) => c.level === level)
        .map((c) => c.x)
        .sort((a, b) => a - b);
      for (let i = 1; i < xs.length; i += 1) expect(xs[i] - xs[i - 1]).toBeGreaterThanOrEqual(CARD_WIDTH + GAP_X);
    }
  });

  it('draws nothing for an organisation without agents', () => {
    expect(layoutOrg({ name: 'organisation', children: [] })).toEqual({ cards: [], links: [], width: 0, height: 0, levels: 0 });
  });

  it('links a manager’s bottom centre to its report’s top centre', () => {
    const layout = layoutOrg(threeLevels());
    const [first] = layout.links;
    const x = CARD_WIDTH / 2;
    expect(linkPath(first.from, first.to)).toBe(`M${x},${CARD_HEIGHT}V${CARD_HEIGHT + GAP_Y / 2}H${x}V${CARD_HEIGHT + GAP_Y}`);
  });
});

describe('fitOrg', () => {
  it('never enlarges a small chart: full size, centred across, at the top', () => {
    const fit = fitOrg({ width: 200, height: 100 }, 1000, 600);
    expect(fit.k).toBe(1);
    expect(fit.x).toBe(400);
    expect(fit.y).toBeGreaterThan(0);
  });

  it('shrinks a wide chart to the panel', () => {
    const fit = fitOrg({ width: 4000, height: 300 }, 1000, 600);
    expect(fit.k).toBeLessThan(0.25);
    expect(fit.x).toBeCloseTo(500 - (fit.k * 4000) / 2);
    expect(fit.x).toBeGreaterThan(0);
  });
});
