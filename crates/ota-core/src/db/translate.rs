//! Rewrites the store's SQL (SQLite's spelling) for PostgreSQL: `?N` and `?` placeholders become `$N`,
//! and SQLite's `INDEXED BY name` hints are dropped (PostgreSQL's planner picks its own index). Text in
//! quotes and comments is left alone. Anything else that differs is written per dialect in the store.

pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    let mut next_bare = 1usize;
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, q) in chars.by_ref() {
                    out.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '-' if sql[i..].starts_with("--") => {
                out.push(c);
                for (_, q) in chars.by_ref() {
                    out.push(q);
                    if q == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            'I' | 'i' if starts_word(sql, i, "INDEXED BY") => {
                // Skip "INDEXED BY" and the index name after it.
                let rest = &sql[i + "INDEXED BY".len()..];
                let name_start = rest.len() - rest.trim_start().len();
                let name_len = rest[name_start..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len() - name_start);
                let skip = "INDEXED BY".len() + name_start + name_len;
                let end = i + skip;
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn starts_word(sql: &str, at: usize, word: &str) -> bool {
    let before_ok = sql[..at]
        .chars()
        .next_back()
        .is_none_or(|ch| !(ch.is_ascii_alphanumeric() || ch == '_'));
    before_ok
        && sql
            .get(at..at + word.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::to_postgres;

    #[test]
    fn numbered_and_bare_placeholders_become_dollar_parameters() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT a FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(
            to_postgres("UPDATE t SET a = ? WHERE b = ?"),
            "UPDATE t SET a = $1 WHERE b = $2"
        );
    }

    #[test]
    fn quoted_text_and_comments_are_left_alone() {
        assert_eq!(
            to_postgres("SELECT '?1', \"a?\" FROM t -- why?1\nWHERE x = ?1"),
            "SELECT '?1', \"a?\" FROM t -- why?1\nWHERE x = $1"
        );
    }

    #[test]
    fn sqlite_index_hints_are_dropped() {
        assert_eq!(
            to_postgres(
                "SELECT 1 FROM campaign_devices INDEXED BY campaign_devices_by_state WHERE x = ?1"
            ),
            "SELECT 1 FROM campaign_devices  WHERE x = $1"
        );
        assert_eq!(to_postgres("SELECT reindexed BY"), "SELECT reindexed BY");
    }
}
