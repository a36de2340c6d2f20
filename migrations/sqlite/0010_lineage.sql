-- Hierarchy queries (issue 16): a node's ancestors and descendants are walked with recursive
-- queries that step from a node to its children by `parent_id`; without this index each step
-- would scan the whole table.
create index nodes_parent on nodes (parent_id);
