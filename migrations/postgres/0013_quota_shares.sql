-- Global quotas across replicas (issue 18). Each replica may hold at most `shares[d]` slots of
-- depth d at once; the shares of every replica that still holds any add up to no more than
-- the depth's quota. A replica raises its share only in a transaction that sees the others'
-- (under one advisory lock), lowers it only once its own slots fit, and publishes its demand
-- (slots held plus nodes waiting, per depth) so that shares follow the work. Arrays indexed
-- by depth; empty holds nothing.
alter table replicas add column shares integer[] not null default '{}';
alter table replicas add column demand integer[] not null default '{}';

-- The replica a claimed job came from, until the claimer has stopped and forgotten the worker
-- processes it left: the gone replica's share is released only once none of its jobs is
-- unclaimed or still being adopted, so what it left running never counts twice.
alter table jobs add column adopting_from uuid;
create index jobs_adopting_from on jobs (adopting_from) where adopting_from is not null;
