"""ovid's token sampler draws from the distributions each decoding strategy defines."""
import numpy as np
import pytest
import torch

from ovid.generate import Decoding
from ovid.generate.sampler import TokenSampler, sample_tokens

LOGITS = torch.log(torch.tensor([0.5, 0.3, 0.1, 0.06, 0.04]))
ROWS = 40_000


def frequencies(decoding, logits=LOGITS, seed=0):
    torch.manual_seed(seed)
    tokens = sample_tokens(logits.repeat(ROWS, 1), decoding)
    return np.bincount(tokens.numpy(), minlength=len(logits)) / ROWS


@pytest.mark.parametrize("decoding, want", [
    (Decoding("pure"), [0.5, 0.3, 0.1, 0.06, 0.04]),
    (Decoding("top-k", top_k=2), [0.625, 0.375, 0, 0, 0]),
    (Decoding("top-p", top_p=0.6), [0.625, 0.375, 0, 0, 0]),  # 0.5 < 0.6, then 0.8 >= 0.6
    (Decoding("top-p", top_p=0.85), [0.5 / 0.9, 0.3 / 0.9, 0.1 / 0.9, 0, 0]),
    (Decoding("temperature", temperature=0.5), list(np.array([.5, .3, .1, .06, .04]) ** 2 / np.sum(np.array([.5, .3, .1, .06, .04]) ** 2))),
])
def test_sampled_frequencies_match_the_strategy(decoding, want):
    got = frequencies(decoding)
    np.testing.assert_allclose(got, want, atol=0.01)
    assert (got[np.array(want) == 0] == 0).all()  # filtered tokens never appear


def test_same_seed_same_tokens_and_processor_output_is_one_hot():
    a, b = frequencies(Decoding("pure"), seed=3), frequencies(Decoding("pure"), seed=3)
    np.testing.assert_array_equal(a, b)
    torch.manual_seed(0)
    scores = TokenSampler(Decoding("top-k", top_k=3))(torch.zeros(4, 1, dtype=torch.long), LOGITS.repeat(4, 1))
    assert ((scores == 0).sum(-1) == 1).all() and torch.isinf(scores).sum() == 4 * 4
    assert scores.argmax(-1).max() < 3
