//! Names and their values (`vars`, `env`), in the order first set, looked up by name in
//! constant time (a file may set many thousands).

use std::collections::HashMap;

/// Names to values; the first setting of a name wins, later ones are ignored.
#[derive(Debug, Clone, Default)]
pub struct Pairs {
    list: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Pairs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.index.get(name).map(|&i| self.list[i].1.as_str())
    }

    /// Sets `name` unless it is set already.
    pub fn add(&mut self, name: String, value: String) {
        if !self.index.contains_key(&name) {
            self.index.insert(name.clone(), self.list.len());
            self.list.push((name, value));
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (String, String)> {
        self.list.iter()
    }

    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.list.clone()
    }
}

impl<'a> IntoIterator for &'a Pairs {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
