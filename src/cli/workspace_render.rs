//! What `cadre workspace diff` prints in words, from the API's `NodeDiffView`: the node's
//! branch and the branch it was made from, the commits compared, the changed files with git's
//! status letter, then the unified diff as git wrote it. Pure functions of the answer, so a
//! field the server leaves out reads as `-` rather than failing.

use serde_json::Value;

/// How many hex digits of a commit a person needs to find it (git's own short form is 7+).
const SHORT_COMMIT: usize = 12;

/// A text field, or `-`.
fn text<'v>(value: &'v Value, field: &str) -> &'v str {
    value[field].as_str().unwrap_or("-")
}

/// A commit in its short form.
fn short(commit: &str) -> &str {
    commit.get(..SHORT_COMMIT).unwrap_or(commit)
}

/// `cadre workspace diff`: the branches and commits, the files, then the diff.
pub(super) fn diff_lines(answer: &Value) -> Vec<String> {
    let mut lines = vec![
        format!("branch  {}", text(answer, "branch")),
        format!("from    {}", text(answer, "parent_branch")),
        format!("commits {}..{}", short(text(answer, "base")), short(text(answer, "head"))),
    ];
    let files = answer["files"].as_array().map(Vec::as_slice).unwrap_or_default();
    if files.is_empty() {
        lines.push("no changes".into());
        return lines;
    }
    let count = if files.len() == 1 { "1 file changed".to_string() } else { format!("{} files changed", files.len()) };
    lines.push(count);
    lines.extend(files.iter().map(|f| format!("  {:<2} {}", text(f, "status"), text(f, "path"))));
    let diff = text(answer, "diff").trim_end();
    if !diff.is_empty() && diff != "-" {
        lines.push(String::new());
        lines.extend(diff.lines().map(str::to_string));
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_diff_reads_as_its_branches_files_and_patch() {
        let answer = json!({"branch": "cadre/j/intro-0123abcd", "parent_branch": "cadre/j/docs-4567ef01",
            "base": "0123456789abcdef0123", "head": "fedcba9876543210fedc",
            "files": [{"path": "TEAM.md", "status": "M"}, {"path": "hello.sh", "status": "A"}],
            "diff": "diff --git a/TEAM.md b/TEAM.md\n-TODO\n+Intro\n"});
        assert_eq!(
            diff_lines(&answer),
            [
                "branch  cadre/j/intro-0123abcd",
                "from    cadre/j/docs-4567ef01",
                "commits 0123456789ab..fedcba987654",
                "2 files changed",
                "  M  TEAM.md",
                "  A  hello.sh",
                "",
                "diff --git a/TEAM.md b/TEAM.md",
                "-TODO",
                "+Intro",
            ]
        );
    }

    #[test]
    fn no_change_and_missing_fields_still_read() {
        let answer =
            json!({"branch": "b", "parent_branch": "p", "base": "abc", "head": "abc", "files": [], "diff": ""});
        assert_eq!(diff_lines(&answer), ["branch  b", "from    p", "commits abc..abc", "no changes"]);
        assert_eq!(diff_lines(&Value::Null), ["branch  -", "from    -", "commits -..-", "no changes"]);
    }
}
