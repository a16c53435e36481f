//! Class labels of a classifier: class index -> WordNet id and display name.
//!
//! For ImageNet-1k they come from timm (`imagenet_synsets.txt`: one WordNet
//! id per line in class-index order; `imagenet_synset_to_lemma.txt`:
//! `id<TAB>name, name, ...`). The display name is the first lemma.

use std::collections::HashMap;
use std::path::Path;

use crate::error::ModelError;
use crate::manifest::LabelAssets;
use crate::store::ModelStore;

/// One class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassLabel {
    /// WordNet id, e.g. `n02123159`.
    pub wnid: String,
    /// Display name, e.g. `tiger cat`.
    pub name: String,
}

/// All classes of a classifier, in class-index order.
#[derive(Debug, Clone)]
pub struct Labels {
    classes: Vec<ClassLabel>,
}

impl Labels {
    /// Loads and checks the label files the manifest names.
    pub fn load(store: &ModelStore, assets: &LabelAssets) -> Result<Self, ModelError> {
        let (ids_path, ids) = store.read_asset(&assets.ids)?;
        let (names_path, names) = store.read_asset(&assets.names)?;
        let text = |path: &Path, bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| ModelError::Labels {
                path: path.to_owned(),
                message: "not UTF-8".into(),
            })
        };
        Self::parse(
            &ids_path,
            &text(&ids_path, ids)?,
            &names_path,
            &text(&names_path, names)?,
        )
    }

    /// Parses the two files; the paths only label errors.
    pub fn parse(
        ids_path: &Path,
        ids: &str,
        names_path: &Path,
        names: &str,
    ) -> Result<Self, ModelError> {
        let mut name_of: HashMap<&str, &str> = HashMap::new();
        for (number, line) in names.lines().enumerate() {
            let Some((wnid, lemmas)) = line.split_once('\t') else {
                return Err(ModelError::Labels {
                    path: names_path.to_owned(),
                    message: format!("line {} has no tab", number + 1),
                });
            };
            let first = lemmas.split(", ").next().unwrap_or(lemmas).trim();
            name_of.insert(wnid.trim(), first);
        }
        let classes = ids
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|wnid| match name_of.get(wnid) {
                Some(name) if !name.is_empty() => Ok(ClassLabel {
                    wnid: wnid.to_owned(),
                    name: (*name).to_owned(),
                }),
                _ => Err(ModelError::Labels {
                    path: names_path.to_owned(),
                    message: format!("no name for class id {wnid} of {}", ids_path.display()),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if classes.is_empty() {
            return Err(ModelError::Labels {
                path: ids_path.to_owned(),
                message: "no class ids".into(),
            });
        }
        Ok(Self { classes })
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there are no classes (never true for a loaded label set).
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class with this index.
    pub fn get(&self, index: usize) -> Option<&ClassLabel> {
        self.classes.get(index)
    }

    /// All classes in index order.
    pub fn iter(&self) -> impl Iterator<Item = &ClassLabel> {
        self.classes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lemma_is_the_name() {
        let labels = Labels::parse(
            Path::new("ids"),
            "n2\nn1\n",
            Path::new("names"),
            "n1\ttench, Tinca tinca\nn2\ttiger cat\nn3\tunused\n",
        )
        .unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels.get(0).unwrap().name, "tiger cat");
        assert_eq!(
            labels.get(1).unwrap(),
            &ClassLabel {
                wnid: "n1".into(),
                name: "tench".into()
            }
        );
    }

    #[test]
    fn unknown_id_is_an_error_naming_it() {
        let error =
            Labels::parse(Path::new("ids"), "n9\n", Path::new("names"), "n1\ttench\n").unwrap_err();
        assert_eq!(error.code(), "model.labels_invalid");
        assert!(error.to_string().contains("n9"));
    }
}
