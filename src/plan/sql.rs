//! A `sql` step's query text and where each of its lines sits in the scenario file, so that a
//! server's "error at character N" points at `file:line:col`.

use serde::Serialize;

use crate::source::{Pos, Source};

/// The query as written.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SqlQuery {
    /// Sent to the database exactly as written.
    pub text: String,
    /// The file position of each line of `text`, where that line appears verbatim in the file
    /// (a literal block or a one-line scalar); `None` where YAML folded or escaped it.
    #[serde(skip)]
    lines: Vec<Option<Pos>>,
}

impl SqlQuery {
    /// The query whose scalar starts at `at` in `source`.
    pub fn new(text: String, source: &Source, at: Pos) -> Self {
        let mut cursor = at.offset.min(source.text.len());
        // A literal block puts line N+1 of the query on the file line after line N (blank lines
        // included); looking further could match the same words elsewhere in the file.
        let mut reach = 1;
        let mut lines = Vec::new();
        for line in text.split('\n') {
            let window = &source.text[cursor..within_lines(&source.text, cursor, reach)];
            let found = (!line.trim().is_empty())
                .then(|| window.find(line))
                .flatten()
                .map(|i| cursor + i);
            lines.push(found.map(|offset| source.pos_of_offset(offset)));
            match found {
                Some(offset) => {
                    cursor = offset + line.len();
                    reach = 1;
                }
                None => reach += 1,
            }
        }
        Self { text, lines }
    }

    /// The file position of the 1-based character `position` of the query, as a database
    /// reports it; `None` when that line is not in the file verbatim.
    pub fn place(&self, position: usize) -> Option<Pos> {
        let mut left = position.checked_sub(1)?;
        for (line, start) in self.text.split('\n').zip(&self.lines) {
            let chars = line.chars().count();
            if left <= chars {
                let start = (*start)?;
                let offset = start.offset + line.chars().take(left).map(char::len_utf8).sum::<usize>();
                return Some(Pos {
                    line: start.line,
                    col: start.col + left as u32,
                    offset,
                });
            }
            left -= chars + 1;
        }
        None
    }
}

/// The byte offset where the `n`th line after the one holding `from` ends.
fn within_lines(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .match_indices('\n')
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(yaml: &str, text: &str) -> (Source, SqlQuery) {
        let source = Source::new("s.yaml", yaml);
        let at = source.pos_of_offset(yaml.find("sql:").unwrap() + 4);
        let query = SqlQuery::new(text.into(), &source, at);
        (source, query)
    }

    #[test]
    fn a_literal_block_maps_each_line() {
        let yaml = "steps:\n  - sql: |\n      SELECT é, x\n      FORM t\n";
        let (_, q) = query(yaml, "SELECT é, x\nFORM t\n");
        // Character 13 is the `F` of `FORM`, on the block's second line.
        assert_eq!(q.place(13).map(|p| (p.line, p.col)), Some((4, 7)));
        assert_eq!(q.place(8).map(|p| (p.line, p.col)), Some((3, 14)));
        assert_eq!(&yaml[q.place(13).unwrap().offset..][..4], "FORM");
    }

    #[test]
    fn a_one_line_scalar_maps_from_its_column() {
        let yaml = "steps:\n  - sql: \"SELEC 1\"\n";
        let (_, q) = query(yaml, "SELEC 1");
        assert_eq!(q.place(1).map(|p| (p.line, p.col)), Some((2, 11)));
    }

    #[test]
    fn an_escaped_line_has_no_place() {
        let yaml = "steps:\n  - sql: \"SELECT\\n\\t1\"\n";
        let (_, q) = query(yaml, "SELECT\n\t1");
        assert_eq!(q.place(1).map(|p| (p.line, p.col)), Some((2, 11)));
        assert_eq!(q.place(8), None);
        assert_eq!(q.place(0), None);
        assert_eq!(q.place(99), None);
    }

    #[test]
    fn a_line_is_not_matched_far_from_the_query() {
        let yaml = "steps:\n  - sql: \"SELECT 1\\nyy\"\n  - wait: 1s\n  - wait: 2s\n  - set: {zz: 1}\n";
        let (_, q) = query(yaml, "SELECT 1\nzz");
        assert!(q.place(1).is_some());
        assert_eq!(q.place(10), None);
    }
}
