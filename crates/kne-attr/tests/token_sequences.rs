//! The token sequences a fact is read as: `input_ids` is prompt ++ target, and
//! `predicting_ids` drops exactly the last target token (the one no prediction reads).

use kne_attr::{FactTokens, input_ids, predicting_ids};
use proptest::prelude::*;

proptest! {
    #[test]
    fn predicting_ids_is_input_ids_without_its_last_target_token(
        prompt in prop::collection::vec(any::<u32>(), 1..20),
        target in prop::collection::vec(any::<u32>(), 0..8),
    ) {
        let all = input_ids(&prompt, &target);
        prop_assert_eq!(all.len(), prompt.len() + target.len());
        prop_assert_eq!(&all[..prompt.len()], &prompt[..]);
        prop_assert_eq!(&all[prompt.len()..], &target[..]);

        let read = predicting_ids(&prompt, &target);
        let expected_len = prompt.len() + target.len().saturating_sub(1);
        prop_assert_eq!(read.len(), expected_len);
        prop_assert_eq!(&read[..], &all[..expected_len]);

        let fact = FactTokens { prompt_ids: prompt, target_ids: target };
        prop_assert_eq!(fact.input_ids(), all);
        prop_assert_eq!(fact.predicting_ids(), read);
    }
}

#[test]
fn a_one_token_target_is_read_from_the_prompt_alone() {
    assert_eq!(predicting_ids(&[5, 6, 7], &[9]), vec![5, 6, 7]);
    assert_eq!(predicting_ids(&[5, 6, 7], &[9, 10]), vec![5, 6, 7, 9]);
}
