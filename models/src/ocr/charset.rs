//! The recogniser's classes ([`Charset`]): blank, the characters, then a
//! space, as rapidocr's `CTCLabelDecode` builds them. The characters come
//! from the graph's metadata (PP-OCRv6 small: `character`, read with
//! Python's `splitlines`) or from a dictionary file (PP-OCRv6 tiny: CRLF
//! lines, read as rapidocr's `read_character_file` does); the manifest's
//! [`CharsetSource`] says which. Either way the count must fit the
//! recogniser's output width, or the model is refused
//! (`ocr.charset_invalid`).

use super::sessions;
use crate::error::ModelError;
use crate::manifest::CharsetSource;
use crate::session::LoadedModel;
use crate::store::ModelStore;

/// The recogniser's classes: blank (index 0, never emitted as text), the
/// characters, then a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Charset {
    classes: Vec<String>,
}

impl Charset {
    /// Parses the metadata text (as Python's `splitlines`: `\n`, `\r\n`
    /// or `\r` end a line, a final line ending adds no empty entry) and
    /// checks that, with blank and space, it has `classes` entries.
    pub fn parse(metadata: &str, classes: usize) -> Result<Self, String> {
        let mut lines: Vec<&str> = metadata
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        if metadata.ends_with('\n') {
            lines.pop();
        }
        if lines.iter().any(|l| l.contains('\r')) {
            return Err("it holds a bare carriage return".into());
        }
        Self::with_characters(lines, classes)
    }

    /// Parses a dictionary file as rapidocr's `read_character_file` does:
    /// lines end at `\n`, a final line ending adds no empty entry, and each
    /// line loses the `\r` and `\n` at either end (so CRLF and LF files
    /// read alike; other whitespace, e.g. U+3000, is a character). Checks
    /// that, with blank and space, it has `classes` entries.
    pub fn from_dictionary(bytes: &[u8], classes: usize) -> Result<Self, String> {
        let text =
            std::str::from_utf8(bytes).map_err(|e| format!("the dictionary is not UTF-8: {e}"))?;
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.trim_matches(['\r', '\n']))
            .collect();
        if text.is_empty() || text.ends_with('\n') {
            lines.pop();
        }
        Self::with_characters(lines, classes)
    }

    fn with_characters(characters: Vec<&str>, classes: usize) -> Result<Self, String> {
        if characters.len() + 2 != classes {
            return Err(format!(
                "{} characters + blank + space for an output of {classes} classes",
                characters.len()
            ));
        }
        let mut all = Vec::with_capacity(classes);
        all.push(String::new());
        all.extend(characters.into_iter().map(str::to_owned));
        all.push(" ".to_owned());
        Ok(Self { classes: all })
    }

    /// Number of classes.
    pub fn count(&self) -> usize {
        self.classes.len()
    }

    /// The text of class `class` (empty for blank); `None` beyond the last.
    pub fn get(&self, class: u32) -> Option<&str> {
        self.classes.get(class as usize).map(String::as_str)
    }
}

/// The classes of the loaded recogniser `rec`, from where `source` says,
/// checked against its `classes` outputs.
pub(crate) fn load(
    store: &ModelStore,
    rec: &LoadedModel,
    source: &CharsetSource,
    classes: usize,
) -> Result<Charset, ModelError> {
    let parsed = match source {
        CharsetSource::Metadata(name) => Charset::parse(&sessions::metadata(rec, name)?, classes),
        CharsetSource::Asset(key) => {
            let (path, bytes) = store.read_asset(key)?;
            Charset::from_dictionary(&bytes, classes)
                .map_err(|message| format!("{}: {message}", path.display()))
        }
    };
    parsed.map_err(|message| ModelError::OcrCharsetInvalid {
        model: rec.key.clone(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_classes_are_blank_characters_space() {
        let set = Charset::parse("a\nb\n中", 5).unwrap();
        assert_eq!(set.count(), 5);
        assert_eq!(set.get(0), Some(""));
        assert_eq!(set.get(1), Some("a"));
        assert_eq!(set.get(3), Some("中"));
        assert_eq!(set.get(4), Some(" "));
        assert_eq!(set.get(5), None);
        assert_eq!(Charset::parse("a\r\nb\r\n中\n", 5).unwrap(), set);
        assert!(Charset::parse("a\rb\n中", 5).is_err());
    }

    #[test]
    fn a_wrong_count_is_an_error() {
        let error = Charset::parse("a\nb", 5).unwrap_err();
        assert!(error.contains("2 characters"), "{error}");
        let error = Charset::from_dictionary(b"a\r\nb\r\n", 5).unwrap_err();
        assert!(error.contains("2 characters"), "{error}");
        let error = Charset::from_dictionary(b"a\r\nb\r\nc\r\nd\r\n", 5).unwrap_err();
        assert!(error.contains("4 characters"), "{error}");
    }

    #[test]
    fn dictionaries_read_alike_with_crlf_and_lf() {
        let crlf = Charset::from_dictionary("!\r\n中\r\n\u{3000}\r\n".as_bytes(), 5).unwrap();
        assert_eq!(crlf.get(1), Some("!"));
        assert_eq!(crlf.get(2), Some("中"));
        // Only line endings are stripped: the ideographic space stays.
        assert_eq!(crlf.get(3), Some("\u{3000}"));
        assert_eq!(crlf.get(4), Some(" "));
        let lf = Charset::from_dictionary("!\n中\n\u{3000}\n".as_bytes(), 5).unwrap();
        assert_eq!(lf, crlf);
        // Without a final line ending, the last line still counts.
        let open = Charset::from_dictionary("!\r\n中\r\n\u{3000}".as_bytes(), 5).unwrap();
        assert_eq!(open, crlf);
    }

    #[test]
    fn a_dictionary_must_be_utf8() {
        let error = Charset::from_dictionary(b"a\r\n\xff\r\n", 4).unwrap_err();
        assert!(error.contains("UTF-8"), "{error}");
        assert!(Charset::from_dictionary(b"", 2).unwrap().count() == 2);
    }

    #[test]
    fn a_dictionary_that_does_not_fit_is_charset_invalid() {
        use sha2::{Digest, Sha256};
        let dir = tempfile::tempdir().unwrap();
        let bytes = "a\r\nb\r\n中\r\n".as_bytes();
        let mut manifest = crate::manifest::Manifest::embedded().unwrap();
        let asset = manifest.asset.get_mut("ocr_rec_tiny_dict").unwrap();
        asset.sha256 = hex::encode(Sha256::digest(bytes));
        fs_err::write(dir.path().join(&asset.file), bytes).unwrap();
        let entry = manifest.model("ocr_rec_tiny").unwrap().clone();
        let store = ModelStore::with_manifest(dir.path(), manifest);
        let rec = LoadedModel {
            key: "ocr_rec_tiny".into(),
            entry,
            sessions: Vec::new(),
        };
        let source = CharsetSource::Asset("ocr_rec_tiny_dict".into());
        assert_eq!(load(&store, &rec, &source, 5).unwrap().count(), 5);
        let error = load(&store, &rec, &source, 6906).unwrap_err();
        assert_eq!(error.code(), "ocr.charset_invalid");
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("3 characters"), "{error}");
        assert!(
            error.to_string().contains("ppocrv6-tiny-dict.txt"),
            "{error}"
        );
    }

    #[test]
    fn the_installed_tiny_dictionary_fits_the_tiny_recogniser() {
        // Runs where `scripts/setup` installed the models.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.imgtag/models");
        let Ok(store) = ModelStore::open(root) else {
            return;
        };
        let Ok((_, bytes)) = store.read_asset("ocr_rec_tiny_dict") else {
            eprintln!("skipped: the tiny dictionary is not installed (scripts/setup)");
            return;
        };
        let classes = crate::session::output_width(
            store.manifest().model("ocr_rec_tiny").unwrap(),
            "fetch_name_0",
        )
        .unwrap();
        let set = Charset::from_dictionary(&bytes, classes).unwrap();
        assert_eq!(set.count(), 6906);
        assert_eq!(set.get(1), Some("!"));
        assert!((1..6905).all(|i| !set.get(i).unwrap().contains(['\r', '\n'])));
    }
}
