//! Chapter 9: a toy 4-dimensional embedding table and the cosine similarity its programs share.

// ANCHOR: table
/// A toy 4-dimensional embedding table, invented for illustration.
/// Axes, roughly: royalty, male-vs-female, adult person, food.
pub const TABLE: [(&str, [f64; 4]); 9] = [
    ("king", [0.92, 0.71, 0.65, 0.03]),
    ("queen", [0.88, -0.69, 0.61, 0.05]),
    ("man", [0.08, 0.74, 0.70, 0.02]),
    ("woman", [0.05, -0.72, 0.68, 0.04]),
    ("prince", [0.80, 0.66, 0.30, 0.01]),
    ("princess", [0.78, -0.63, 0.28, 0.02]),
    ("apple", [0.02, 0.01, 0.05, 0.95]),
    ("nurse", [0.03, -0.35, 0.60, 0.02]),
    ("engineer", [0.02, 0.38, 0.62, 0.01]),
];

/// One embedding: four coordinates.
pub type Vec4 = [f64; 4];

/// The dot product of two embeddings.
pub fn dot(a: &Vec4, b: &Vec4) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The cosine of the angle between two embeddings: their dot product over their lengths.
pub fn cosine(a: &Vec4, b: &Vec4) -> f64 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

/// The embedding of `word`, which must be one of the table's words.
pub fn lookup(word: &str) -> Vec4 {
    TABLE.iter().find(|(w, _)| *w == word).expect("word in table").1
}
// ANCHOR_END: table
