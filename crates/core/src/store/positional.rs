//! SQLite text for statements written with PostgreSQL's `$1, $2, …` placeholders. SQLite keeps a
//! statement's parameter names in a list it scans from the start for each lookup, and sqlx asks
//! for every parameter's name when it binds (and SQLite when it parses): a statement of n named
//! parameters costs about n²/2 steps, milliseconds on the one writer for a 3,600-value insert
//! (a profile of `--phase throughput` had `sqlite3_bind_parameter_name` at 4 % of all CPU).
//! Anonymous `?` parameters have no names to scan, and bind by position.

use super::Backend;

/// `sql` as `backend` runs it best: on SQLite with `?` for `$N` when each `$N` appears once and
/// in order (`$1` first), as the multi-row `VALUES` lists and `IN` lists are built; otherwise,
/// and on PostgreSQL, as it is.
pub(super) fn for_backend(backend: Backend, sql: String) -> String {
    match backend {
        Backend::Sqlite => anonymous(&sql).unwrap_or(sql),
        Backend::Postgres => sql,
    }
}

/// `sql` with `?` for each `$N`, if they run `$1, $2, …` in order of appearance.
fn anonymous(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut next = 1usize;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let number: usize = rest[at + 1..at + 1 + digits].parse().ok()?;
        if number != next {
            return None;
        }
        next += 1;
        out.push('?');
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_order_become_anonymous_on_sqlite_only() {
        let sql = "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)".to_owned();
        assert_eq!(
            for_backend(Backend::Sqlite, sql.clone()),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(for_backend(Backend::Postgres, sql.clone()), sql);
        let tail = "UPDATE t SET a = $1 WHERE id IN ($2, $3) AND b = 1".to_owned();
        assert_eq!(
            for_backend(Backend::Sqlite, tail),
            "UPDATE t SET a = ? WHERE id IN (?, ?) AND b = 1"
        );
    }

    #[test]
    fn a_placeholder_repeated_or_out_of_order_keeps_its_number() {
        for sql in ["SELECT $1, $1", "SELECT $2, $1", "SELECT $1, $3", "SELECT $x"] {
            assert_eq!(for_backend(Backend::Sqlite, sql.to_owned()), sql);
        }
        assert_eq!(for_backend(Backend::Sqlite, "SELECT 1".to_owned()), "SELECT 1");
    }
}
