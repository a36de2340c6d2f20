// A node named in a result (an agent, a manager): a button selecting it when the tree holds
// it and the view can select, its name in plain text otherwise.

export interface NodeLinkProps {
  name: string;
  /** The id of the node this name stands for, when the tree holds it. */
  nodeId?: string;
  onSelect?: (nodeId: string) => void;
}

export function NodeLink({ name, nodeId, onSelect }: NodeLinkProps) {
  if (!nodeId || !onSelect) return <code>{name}</code>;
  return (
    <button type="button" className="link-button" onClick={() => onSelect(nodeId)} aria-label={`Select node ${name}`}>
      <code>{name}</code>
    </button>
  );
}
