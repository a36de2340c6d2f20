// The tree component of the Hierarchy and Job detail views: D3 tidy layout, nodes as
// positioned tree items over an SVG of links, roving-tabindex keyboard navigation,
// collapse/expand controls, zoom, and culling of off-screen nodes in big trees.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type KeyboardEvent } from 'react';
import { linkHorizontal } from 'd3';
import type { TreeModel, TreeNode } from './model';
import { layoutTree, NODE_HEIGHT, NODE_WIDTH, type PlacedNode } from './layout';
import { TreeItem } from './TreeItem';

/** Above this many shown nodes, only those near the viewport are rendered. */
export const CULL_THRESHOLD = 400;
/** Extra pixels around the viewport still rendered when culling. */
const CULL_MARGIN = 600;
/** Viewport assumed before the scroll box has been measured. */
const UNMEASURED_VIEWPORT: Viewport = { top: 0, left: 0, width: 1440, height: 900 };
const ZOOM_STEP = 1.25;
const PERCENT = 100;
const ZOOM_MIN = 0.3;
const ZOOM_MAX = 2;

export interface TreeViewProps {
  model: TreeModel;
  label: string;
  selectedId?: string | null;
  onSelect?: (id: string) => void;
}

interface Viewport {
  top: number;
  left: number;
  width: number;
  height: number;
}

const linkPath = linkHorizontal<unknown, [number, number]>()
  .source((d) => (d as { s: [number, number] }).s)
  .target((d) => (d as { t: [number, number] }).t);

interface Position {
  level: number;
  posinset: number;
  setsize: number;
}

/** aria-level / aria-posinset / aria-setsize of every shown node. */
function positions(model: TreeModel, placed: PlacedNode[]): Map<string, Position> {
  const out = new Map<string, Position>();
  const rootDepth = new Map<string, number>();
  for (const r of model.roots) rootDepth.set(r.jobId, r.depth);
  const index = new Map<TreeNode, number>();
  const indexAll = (list: TreeNode[]) => list.forEach((n, i) => index.set(n, i));
  indexAll(model.roots);
  for (const p of placed) if (!model.isCollapsed(p.node.id)) indexAll(p.node.children);
  for (const p of placed) {
    const n = p.node;
    const siblings = n.parent ? n.parent.children : model.roots;
    out.set(n.id, {
      level: n.depth - (rootDepth.get(n.jobId) ?? 0) + 1,
      posinset: (index.get(n) ?? 0) + 1,
      setsize: siblings.length,
    });
  }
  return out;
}

export function TreeView({ model, label, selectedId = null, onSelect }: TreeViewProps) {
  const subscribe = useCallback((cb: () => void) => model.subscribeStructure(cb), [model]);
  const version = useSyncExternalStore(subscribe, () => model.structureVersion);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const layout = useMemo(() => layoutTree(model), [model, version]);
  const visible = model.visible();
  const aria = useMemo(() => positions(model, layout.placed), [model, layout]);
  const [focusWanted, setFocusWanted] = useState<string | null>(null);
  const [scale, setScale] = useState(1);
  const [viewport, setViewport] = useState<Viewport | null>(null);
  const elements = useRef(new Map<string, HTMLDivElement>());
  const moveFocus = useRef(false);
  const scrollBox = useRef<HTMLDivElement | null>(null);
  const scrollScheduled = useRef(false);
  const placedInitially = useRef(false);
  const placedModel = useRef<TreeModel | null>(null);

  const focusId = useMemo(() => {
    if (focusWanted && layout.byId.has(focusWanted)) return focusWanted;
    if (focusWanted) {
      const near = model.nearestVisible(focusWanted);
      if (near && layout.byId.has(near.id)) return near.id;
    }
    return visible[0]?.id ?? null;
  }, [focusWanted, layout, model, visible]);

  const register = useCallback((id: string, el: HTMLDivElement | null) => {
    if (el) elements.current.set(id, el);
    else elements.current.delete(id);
  }, []);

  useEffect(() => {
    if (!moveFocus.current || !focusId) return;
    moveFocus.current = false;
    elements.current.get(focusId)?.focus();
  });

  const measure = useCallback(() => {
    const box = scrollBox.current;
    if (!box) return;
    setViewport({ top: box.scrollTop, left: box.scrollLeft, width: box.clientWidth, height: box.clientHeight });
  }, []);

  useEffect(() => {
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, [measure]);

  // On the first layout, bring the first node (the root, vertically centred by d3.tree) into
  // view; on later layouts (expand, collapse, refetch), keep the focused node in view.
  const focusRef = useRef(focusId);
  useEffect(() => {
    focusRef.current = focusId;
  });
  useEffect(() => {
    const box = scrollBox.current;
    const target = (!placedInitially.current ? visible[0]?.id : focusRef.current) ?? null;
    const p = target ? layout.byId.get(target) : undefined;
    if (!box || !p) return;
    const first = !placedInitially.current;
    const refetched = placedModel.current !== null && placedModel.current !== model;
    placedInitially.current = true;
    placedModel.current = model;
    // A refetched snapshot must not yank the view away from where the user scrolled.
    if (refetched) return;
    const top = p.y * scale;
    const left = p.x * scale;
    const outside =
      top < box.scrollTop ||
      top + NODE_HEIGHT * scale > box.scrollTop + box.clientHeight ||
      left < box.scrollLeft ||
      left + NODE_WIDTH * scale > box.scrollLeft + box.clientWidth;
    if (!first && !outside) return;
    box.scrollTop = Math.max(0, top + (NODE_HEIGHT * scale) / 2 - box.clientHeight / 2);
    if (!first) box.scrollLeft = Math.max(0, left + (NODE_WIDTH * scale) / 2 - box.clientWidth / 2);
  }, [layout, visible, scale, model]);

  const onScroll = useCallback(() => {
    if (scrollScheduled.current) return;
    scrollScheduled.current = true;
    window.requestAnimationFrame(() => {
      scrollScheduled.current = false;
      measure();
    });
  }, [measure]);

  const focusNode = useCallback((id: string) => {
    moveFocus.current = true;
    setFocusWanted(id);
  }, []);

  const activate = useCallback(
    (id: string) => {
      focusNode(id);
      onSelect?.(id);
    },
    [focusNode, onSelect],
  );

  const toggle = useCallback((id: string) => model.toggle(id), [model]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!focusId) return;
    const node = model.get(focusId);
    if (!node) return;
    const index = visible.findIndex((n) => n.id === focusId);
    const hasChildren = node.children.length > 0;
    const collapsed = model.isCollapsed(node.id);
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
        if (index + 1 < visible.length) focusNode(visible[index + 1].id);
        break;
      case 'ArrowUp':
        if (index > 0) focusNode(visible[index - 1].id);
        break;
      case 'ArrowRight':
        if (hasChildren && collapsed) model.setCollapsed(node.id, false);
        else if (hasChildren) focusNode(node.children[0].id);
        break;
      case 'ArrowLeft':
        if (hasChildren && !collapsed) model.setCollapsed(node.id, true);
        else if (node.parent) focusNode(node.parent.id);
        break;
      case 'Home':
        if (visible.length > 0) focusNode(visible[0].id);
        break;
      case 'End':
        if (visible.length > 0) focusNode(visible[visible.length - 1].id);
        break;
      case 'Enter':
        if (hasChildren) model.toggle(node.id);
        onSelect?.(node.id);
        break;
      case ' ':
        onSelect?.(node.id);
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const culled = layout.placed.length > CULL_THRESHOLD;
  const shown: PlacedNode[] = useMemo(() => {
    if (!culled) return layout.placed;
    const view = viewport && viewport.width > 0 ? viewport : UNMEASURED_VIEWPORT;
    const top = view.top / scale - CULL_MARGIN;
    const bottom = (view.top + view.height) / scale + CULL_MARGIN;
    const left = view.left / scale - CULL_MARGIN;
    const right = (view.left + view.width) / scale + CULL_MARGIN;
    return layout.placed.filter(
      (p) =>
        p.node.id === focusId ||
        (p.y + NODE_HEIGHT >= top && p.y <= bottom && p.x + NODE_WIDTH >= left && p.x <= right),
    );
  }, [culled, viewport, scale, layout, focusId]);

  const linksD = useMemo(() => {
    const parts: string[] = [];
    for (const { from, to } of layout.links) {
      const d = linkPath({
        s: [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2],
        t: [to.x, to.y + NODE_HEIGHT / 2],
      });
      if (d) parts.push(d);
    }
    return parts.join(' ');
  }, [layout]);

  const zoom = (factor: number) => setScale((s) => Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, s * factor)));

  if (visible.length === 0) return null;
  return (
    <div className="tree-view">
      <div className="tree-toolbar" role="group" aria-label={`${label} controls`}>
        <button type="button" onClick={() => model.expandAll()}>
          Expand all
        </button>
        <button type="button" onClick={() => model.collapseAll()}>
          Collapse all
        </button>
        <button type="button" onClick={() => zoom(1 / ZOOM_STEP)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => setScale(1)} aria-label={`Reset zoom, now ${Math.round(scale * PERCENT)}%`}>
          {Math.round(scale * PERCENT)}%
        </button>
        <button type="button" onClick={() => zoom(ZOOM_STEP)} aria-label="Zoom in">
          +
        </button>
        <span className="tree-count">
          {visible.length} of {model.size} nodes shown
        </span>
      </div>
      <div className="tree-scroll" ref={scrollBox} onScroll={onScroll}>
        <div className="tree-canvas" style={{ width: layout.width * scale, height: layout.height * scale }}>
          <div
            className="tree-inner"
            style={{ width: layout.width, height: layout.height, transform: `scale(${scale})` }}
          >
            <svg className="tree-links" width={layout.width} height={layout.height} aria-hidden="true" focusable="false">
              <path d={linksD} />
            </svg>
            <div role="tree" aria-label={label} className="tree-items" onKeyDown={onKeyDown}>
              {shown.map((p) => {
                const pos = aria.get(p.node.id);
                return (
                  <TreeItem
                    key={p.node.id}
                    model={model}
                    id={p.node.id}
                    x={p.x}
                    y={p.y}
                    level={pos?.level ?? 1}
                    posinset={pos?.posinset ?? 1}
                    setsize={pos?.setsize ?? 1}
                    focused={p.node.id === focusId}
                    selected={p.node.id === selectedId}
                    selectable={onSelect !== undefined}
                    register={register}
                    onActivate={activate}
                    onToggle={toggle}
                  />
                );
              })}
            </div>
          </div>
        </div>
      </div>
    </div>
  );
}
