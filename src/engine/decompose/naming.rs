//! Node names and titles made from the model's labels.
//!
//! A node name must match `[A-Za-z0-9_.-]{1,64}` and be unique among its siblings, while a
//! model writes functions as it likes (`table_creation`, `Table Creation`, `API/endpoints`).
//! Everything that turns such a label into a name or a title lives here, so the rules are
//! in one place and grouping can trust what it gets.
//!
//! Sibling names are unique by construction, so nothing here deduplicates: managers are
//! identified by their (cleaned) name, groups by their function key, a key holds no `-`,
//! and only the parts of a split group get a `-k` suffix.

const MAX_NAME: usize = 64;

/// The key a function label groups under, and its agents' base name: ASCII letters and
/// digits in lowercase, every run of anything else turned into one `_`, at most 64
/// characters; `tasks` when nothing is left. So labels that differ only in case or
/// punctuation (`Table Creation`, `table-creation`, `table_creation`) make one group: a
/// model is not consistent about them, and two agents for one function would be a waste.
pub fn function_key(label: &str) -> String {
    let mut key = String::new();
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_');
    if key.is_empty() {
        "tasks".to_string()
    } else {
        truncate(key, MAX_NAME).to_string()
    }
}

/// A configured manager name made valid: characters outside `[A-Za-z0-9_.-]` become `_`,
/// at most 64 characters, `manager` when empty. The operator chose it, so its case stays.
pub fn manager_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' })
        .collect();
    if cleaned.is_empty() {
        "manager".to_string()
    } else {
        truncate(&cleaned, MAX_NAME).to_string()
    }
}

/// `base-k`, with `base` cut so the whole fits in 64 characters.
pub fn numbered(base: &str, k: usize) -> String {
    let suffix = format!("-{k}");
    format!("{}{suffix}", truncate(base, MAX_NAME.saturating_sub(suffix.len())))
}

/// A function label as words for a title: `table_creation` → `Table creation`.
pub fn humanise(label: &str) -> String {
    let words: Vec<&str> =
        label.split(|c: char| c == '_' || c == '-' || c.is_whitespace()).filter(|w| !w.is_empty()).collect();
    let text = words.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Tasks".to_string(),
    }
}

/// The first `max` characters; names are ASCII here, so characters are bytes.
fn truncate(s: &str, max: usize) -> &str {
    &s[..s.len().min(max)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_valid_names() {
        assert_eq!(function_key("table_creation"), "table_creation");
        assert_eq!(function_key(" Table Creation "), "table_creation");
        assert_eq!(function_key("table-creation"), "table_creation");
        assert_eq!(function_key("API / endpoints!"), "api_endpoints");
        assert_eq!(function_key("création"), "cr_ation");
        assert_eq!(function_key("???"), "tasks");
        assert_eq!(function_key(&"x".repeat(100)).len(), 64);
        assert_eq!(manager_name("Data base"), "Data_base");
        assert_eq!(manager_name(""), "manager");
    }

    #[test]
    fn part_names_fit() {
        assert_eq!(numbered("table_creation", 2), "table_creation-2");
        assert_eq!(numbered(&"y".repeat(64), 1), format!("{}-1", "y".repeat(62)));
    }

    #[test]
    fn titles_read_as_words() {
        assert_eq!(humanise("table_creation"), "Table creation");
        assert_eq!(humanise("API endpoints"), "API endpoints");
        assert_eq!(humanise("__"), "Tasks");
    }
}
