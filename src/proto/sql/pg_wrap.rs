//! A row-returning PostgreSQL statement rewritten so that the server sends each row as JSON.
//!
//! The statement goes into a CTE, `runner$row`, and the outer query returns
//! `to_json(runner$row)::text`. A statement that has its own `WITH` gets `runner$row` appended to
//! its CTE list instead of being nested, because PostgreSQL allows a data-modifying CTE
//! (`WITH x AS (UPDATE … RETURNING *) SELECT …`) only at the top level.

/// The CTE's name: unlikely to be a user's column name (which `to_json` would pick instead).
const ALIAS: &str = "runner$row";

/// The rewritten statement, and how to map a position in it back to the user's text.
#[derive(Debug)]
pub struct Wrapped {
    /// What is sent.
    pub text: String,
    /// Characters of the user's text before the inserted part.
    insert_at: usize,
    /// Characters inserted there.
    inserted: usize,
    /// Characters of the user's text in all.
    user: usize,
}

impl Wrapped {
    /// The 1-based position in the user's text of `position` in the rewritten one; `None` for
    /// a position in what the runner added.
    pub fn original(&self, position: usize) -> Option<usize> {
        match position {
            0 => None,
            p if p <= self.insert_at => Some(p),
            p if p <= self.insert_at + self.inserted => None,
            p => Some(p - self.inserted).filter(|p| *p <= self.user),
        }
    }
}

/// Rewrites `sql` (one statement, maybe ending in `;`) to return JSON rows. The newlines keep a
/// trailing `-- comment` from swallowing what follows it.
pub fn wrap(sql: &str) -> Wrapped {
    let body = sql.trim_end().trim_end_matches(';').trim_end();
    let user = body.chars().count();
    let tail = format!("\n) SELECT to_json({ALIAS})::text FROM {ALIAS}");
    match main_statement(body) {
        Some(start) => {
            let head = format!(", {ALIAS} AS (\n");
            Wrapped {
                text: format!("{}{head}{}{tail}", &body[..start], &body[start..]),
                insert_at: body[..start].chars().count(),
                inserted: head.chars().count(),
                user,
            }
        }
        None => {
            let head = format!("WITH {ALIAS} AS (\n");
            Wrapped {
                text: format!("{head}{body}{tail}"),
                insert_at: 0,
                inserted: head.chars().count(),
                user,
            }
        }
    }
}

/// For `WITH a AS (…), b AS (…) main`, the byte offset where `main` starts; `None` for a
/// statement without a leading `WITH`, or one this reader does not follow (`SEARCH`/`CYCLE`).
fn main_statement(sql: &str) -> Option<usize> {
    let mut tokens = Tokens { sql, at: 0 };
    tokens.word("WITH")?;
    if tokens.peek_word("RECURSIVE") {
        tokens.next();
    }
    loop {
        tokens.next()?; // the CTE's name
        if tokens.peek() == Some("(") {
            tokens.group()?;
        }
        tokens.word("AS")?;
        if tokens.peek_word("NOT") {
            tokens.next();
        }
        if tokens.peek_word("MATERIALIZED") {
            tokens.next();
        }
        if tokens.peek() != Some("(") {
            return None;
        }
        tokens.group()?;
        match tokens.peek()? {
            "," => {
                tokens.next();
            }
            word if word.eq_ignore_ascii_case("SEARCH") || word.eq_ignore_ascii_case("CYCLE") => return None,
            _ => return Some(tokens.start_of_next()),
        }
    }
}

/// SQL tokens, enough to find the end of a CTE list: words, quoted strings and identifiers,
/// dollar-quoted strings and single characters; whitespace and comments skipped.
struct Tokens<'a> {
    sql: &'a str,
    at: usize,
}

impl<'a> Tokens<'a> {
    /// The next token, consumed.
    fn next(&mut self) -> Option<&'a str> {
        let start = self.start_of_next();
        let end = start + token_len(&self.sql[start..])?;
        self.at = end;
        Some(&self.sql[start..end])
    }

    fn peek(&self) -> Option<&'a str> {
        let start = self.start_of_next();
        token_len(&self.sql[start..]).map(|len| &self.sql[start..start + len])
    }

    fn peek_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.eq_ignore_ascii_case(word))
    }

    /// Consumes `word`, or fails.
    fn word(&mut self, word: &str) -> Option<()> {
        self.next().filter(|t| t.eq_ignore_ascii_case(word)).map(|_| ())
    }

    /// Consumes a parenthesised group, nested groups included.
    fn group(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                "(" => depth += 1,
                ")" => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(());
                    }
                }
                _ => {}
            }
        }
    }

    /// Where the next token starts, after whitespace and comments.
    fn start_of_next(&self) -> usize {
        let mut at = self.at;
        loop {
            let rest = &self.sql[at..];
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            if trimmed.starts_with("--") {
                at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if trimmed.starts_with("/*") {
                at += block_comment_len(trimmed);
            } else {
                return at;
            }
        }
    }
}

/// The length of the token at the start of `rest`; `None` at the end.
fn token_len(rest: &str) -> Option<usize> {
    let first = rest.chars().next()?;
    Some(match first {
        '\'' => quoted_len(rest, '\''),
        '"' => quoted_len(rest, '"'),
        '$' => dollar_quote_len(rest).unwrap_or(1),
        c if c.is_alphanumeric() || c == '_' => {
            let word = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rest.len());
            // E'…' escapes quotes with a backslash.
            match (&rest[..word], rest[word..].starts_with('\'')) {
                ("E" | "e", true) => word + escaped_len(&rest[word..]),
                _ => word,
            }
        }
        c => c.len_utf8(),
    })
}

/// `'…'` or `"…"`, a doubled quote standing for one.
fn quoted_len(rest: &str, quote: char) -> usize {
    let mut chars = rest.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, next)| *next == quote) {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    rest.len()
}

/// `'…'` where a backslash escapes the next character.
fn escaped_len(rest: &str) -> usize {
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' => return i + 1,
            _ => {}
        }
    }
    rest.len()
}

/// `$tag$…$tag$` (the tag may be empty); `None` when `$` starts no such quote (`$1`).
fn dollar_quote_len(rest: &str) -> Option<usize> {
    let tag_end = rest[1..].find('$')? + 2;
    let tag = &rest[..tag_end];
    let valid = tag[1..tag.len() - 1]
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()));
    if !valid {
        return None;
    }
    let close = rest[tag_end..]
        .find(tag)
        .map_or(rest.len(), |i| tag_end + i + tag.len());
    Some(close)
}

/// `/* … */`, nested comments included.
fn block_comment_len(rest: &str) -> usize {
    let mut depth = 0usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += rest[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_statement_is_nested() {
        let w = wrap("SELECT 1 -- one\n;\n");
        assert_eq!(
            w.text,
            "WITH runner$row AS (\nSELECT 1 -- one\n) SELECT to_json(runner$row)::text FROM runner$row"
        );
        assert_eq!(w.original(22), Some(1));
        assert_eq!(w.original(21), None);
        assert_eq!(w.original(3), None);
    }

    #[test]
    fn a_statement_with_ctes_gets_one_more() {
        let sql = "WITH RECURSIVE x(n) AS NOT MATERIALIZED (SELECT ')' FROM t WHERE a = $1), \"y(\" AS (UPDATE t SET s = $q$)$q$ /* ) */ RETURNING *)\nSELECT * FROM y";
        let w = wrap(sql);
        let main = sql.find("SELECT * FROM y").unwrap();
        assert_eq!(
            w.text,
            format!(
                "{}, runner$row AS (\n{}\n) SELECT to_json(runner$row)::text FROM runner$row",
                &sql[..main],
                &sql[main..]
            )
        );
        assert_eq!(w.original(1), Some(1));
        assert_eq!(w.original(main), Some(main));
        assert_eq!(w.original(main + 1), None);
        assert_eq!(w.original(main + 19), Some(main + 1));
    }

    #[test]
    fn escaped_strings_and_comments_do_not_end_a_cte() {
        let sql = "with a as (select E'\\')' -- )\n /* ( */ ) update t set x = 1 returning *";
        assert_eq!(main_statement(sql), sql.find("update"));
    }

    #[test]
    fn lists_it_cannot_follow_fall_back_to_nesting() {
        assert_eq!(main_statement("SELECT 1"), None);
        assert_eq!(
            main_statement("WITH a AS (SELECT 1) SEARCH DEPTH FIRST BY x SET o SELECT 1"),
            None
        );
        assert_eq!(main_statement("WITH a AS (SELECT 1"), None);
        assert_eq!(main_statement("WITH"), None);
    }
}
