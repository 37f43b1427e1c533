use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Something that owns a text an [`Excerpt`] can point into.
pub trait SharedText: Send + Sync {
    /// The whole text.
    fn text(&self) -> &str;
}

impl SharedText for String {
    fn text(&self) -> &str {
        self
    }
}

impl SharedText for super::SourceFile {
    fn text(&self) -> &str {
        &self.text
    }
}

/// A piece of a file's text, shared with every other piece of the same file.
///
/// [`CodeUnit::source`](super::CodeUnit::source) is the largest field of a
/// unit: a module unit holds the whole file, a class holds all its methods.
/// Copying it per unit copied every file about three times over and made the
/// allocator the hottest part of `docpipe run check` (the frees of those large
/// strings kept triggering glibc's `malloc_consolidate`). An excerpt is a
/// reference-counted handle to the text's owner (the extractor passes the
/// [`SourceFile`](super::SourceFile) itself) and a byte range, so a unit
/// costs the same whatever its size. It reads as a `&str` (`Deref`), compares
/// and hashes by its text, and serializes as a plain JSON string, so plugins,
/// cache entries and reports see no difference.
#[derive(Clone)]
pub struct Excerpt {
    owner: Arc<dyn SharedText>,
    range: Range<usize>,
}

impl Excerpt {
    /// The bytes `range` of `owner`'s text, or `None` when the range is out
    /// of bounds or does not fall on character boundaries.
    pub fn new(owner: Arc<dyn SharedText>, range: Range<usize>) -> Option<Excerpt> {
        owner.text().get(range.clone())?;
        Some(Excerpt { owner, range })
    }

    /// The excerpt's text.
    pub fn as_str(&self) -> &str {
        // `new` checked the range; owned excerpts span their whole text.
        self.owner
            .text()
            .get(self.range.clone())
            .unwrap_or_default()
    }
}

impl Default for Excerpt {
    fn default() -> Excerpt {
        Excerpt::from(String::new())
    }
}

impl Deref for Excerpt {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Excerpt {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Excerpt {
    fn from(text: String) -> Excerpt {
        let range = 0..text.len();
        Excerpt {
            owner: Arc::new(text),
            range,
        }
    }
}

impl From<&str> for Excerpt {
    fn from(text: &str) -> Excerpt {
        Excerpt::from(text.to_string())
    }
}

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Excerpt {
    fn eq(&self, other: &Excerpt) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Excerpt {}

impl PartialEq<str> for Excerpt {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Excerpt {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Excerpt> for &str {
    fn eq(&self, other: &Excerpt) -> bool {
        *self == other.as_str()
    }
}

impl std::hash::Hash for Excerpt {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for Excerpt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Excerpt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Excerpt, D::Error> {
        String::deserialize(deserializer).map(Excerpt::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_the_text_and_reads_as_the_range() {
        let text = Arc::new(String::from("def f():\n    pass\n"));
        let body = Excerpt::new(text.clone(), 9..17).expect("in bounds");
        assert_eq!(body, "    pass");
        assert_eq!(Arc::strong_count(&text), 2);
        assert_eq!(body.lines().count(), 1);
    }

    #[test]
    fn refuses_ranges_outside_the_text_or_inside_a_character() {
        let text = Arc::new(String::from("é = 1"));
        assert!(Excerpt::new(text.clone(), 0..1).is_none());
        assert!(Excerpt::new(text.clone(), 3..99).is_none());
        assert!(Excerpt::new(text, 0..2).is_some());
    }

    #[test]
    fn serializes_as_a_plain_string_and_back() {
        let file = Arc::new(crate::model::SourceFile::from_text(
            "m.py",
            "x = 1\ny = 2\n",
        ));
        let second = Excerpt::new(file, 6..11).expect("in bounds");
        let json = serde_json::to_string(&second).expect("serializes");
        assert_eq!(json, "\"y = 2\"");
        let back: Excerpt = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, second);
        assert_eq!(back.len(), 5);
    }
}
