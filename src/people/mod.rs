//! People in the loop (issue 15): what cadre asks of a person and how their answers move the
//! tree. Built so far: the approval rules themselves ([`approvals`]), pure and tested — who
//! may decide, N of M, no approving one's own request, a timeout's default, and escalation up
//! the levels the tree's ancestors make. The store, the API, the driver's waiting node and
//! the inbox come next (see `docs/PEOPLE.md`).

pub mod approvals;
pub mod report;
