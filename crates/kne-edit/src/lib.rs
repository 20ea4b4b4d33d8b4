//! The `Editor` trait, the sparse revertible `WeightDelta`, and the KNE editor (Eq. 8–11).
//!
//! Not implemented yet: see issue 4.
