//! CSV input.
