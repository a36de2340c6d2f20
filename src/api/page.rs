//! Cursor pagination, shared by the lists (jobs, audit log): newest first by a sequence
//! number, the cursor being the last sequence number of the previous page — or, for lists
//! ordered by time (approvals, alerts), the last row's time and id.

use crate::error::{ApiError, ApiResult};

/// A page asked for: its size and where it starts.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Rows to return.
    pub size: i64,
    /// Only rows with a smaller sequence number.
    pub before_seq: Option<i64>,
}

impl PageRequest {
    /// Parses `limit` (1–`max`, `default` when absent) and `cursor`.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>, default: i64, max: i64) -> ApiResult<Self> {
        let size = limit.unwrap_or(default);
        if !(1..=max).contains(&size) {
            return Err(ApiError::BadRequest(format!("limit must be 1–{max}")));
        }
        let before_seq = cursor
            .map(|c| c.parse::<i64>().map_err(|_| ApiError::BadRequest("cursor is not valid".into())))
            .transpose()?;
        Ok(Self { size, before_seq })
    }

    /// The row count to fetch: one more than the page tells whether another page exists.
    pub fn fetch(self) -> i64 {
        self.size + 1
    }

    /// Cuts fetched rows to the page and says where the next one starts (nothing on the last).
    pub fn cut<T>(self, mut rows: Vec<T>, seq: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let has_more = rows.len() > size;
        rows.truncate(size);
        let next = if has_more { rows.last().map(|r| seq(r).to_string()) } else { None };
        (rows, next)
    }
}

/// A page of a list ordered by time and id (approvals, alerts): its size, and the row it goes
/// on after — the cursor `MS.UUID` of the previous page's last row, so rows of the same
/// millisecond are neither skipped nor repeated.
#[derive(Debug, Clone, Copy)]
pub struct TimePage {
    pub size: i64,
    pub after: Option<(i64, uuid::Uuid)>,
}

impl TimePage {
    /// Parses `limit` (1–`max`, `default` when absent) and `cursor`.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>, default: i64, max: i64) -> ApiResult<Self> {
        let size = limit.unwrap_or(default);
        if !(1..=max).contains(&size) {
            return Err(ApiError::BadRequest(format!("limit must be 1–{max}")));
        }
        let bad = || ApiError::BadRequest("cursor is not valid".into());
        let after = match cursor.map(|c| c.split_once('.').ok_or_else(bad)).transpose()? {
            Some((ms, id)) => Some((ms.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?)),
            None => None,
        };
        Ok(Self { size, after })
    }

    /// The next page's cursor, when the page is full: its last row's time and id.
    pub fn next(self, fetched: usize, last: Option<(i64, uuid::Uuid)>) -> Option<String> {
        (fetched as i64 == self.size).then_some(last).flatten().map(|(ms, id)| format!("{ms}.{id}"))
    }
}
