//! Token-level integrated-gradient attribution (Eq. 3–5 of the paper), aggregation of
//! scores over facts, global quantile selection (Eq. 6–7) and the `Ensemble` type.
//!
//! Not implemented yet: see issue 4.
