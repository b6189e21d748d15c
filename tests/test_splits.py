import json

from ovid.splits import document_key, normalise, split_by_document

from conftest import SHARED, needs_shared


def test_normalise_and_key():
    assert normalise("Hello, World!  It's 2019\n--GPT-2") == "hello world it s 2019 gpt 2"
    assert document_key("One two, three four five six seven eight nine ten") == "one two three four five six seven eight"


def test_a_document_and_its_continuations_stay_together():
    article = "Maj Richard Scott, 40, is accused of driving at speeds of up to 95mph in bad weather."
    machine = "Maj Richard Scott, 40, is accused of driving at speeds of up to 95mph, police said today."
    other = [f"Article number {i} about something else entirely, with words." for i in range(200)]
    texts = [article, machine] + other
    train, test = split_by_document(list(range(len(texts))), texts, test_fraction=0.5)
    assert (0 in test) == (1 in test)
    assert 60 < len(test) < 140 and sorted(train + test) == list(range(len(texts)))


@needs_shared
def test_no_held_out_article_reaches_training_in_any_file():
    for dataset in ("xsum", "writing"):
        train_keys, test_keys = set(), set()
        for f in sorted(SHARED.glob(f"{dataset}_*.raw_data.json")):
            obj = json.loads(f.read_text())
            texts = obj["original"] + obj["sampled"]
            train, test = split_by_document(texts, texts)
            train_keys |= {document_key(t) for t in train}
            test_keys |= {document_key(t) for t in test}
            # every machine text lands on its own article's side
            side = {document_key(t): t in set(test) for t in obj["original"]}
            assert all(side[document_key(s)] == (s in set(test)) for s in obj["sampled"])
        assert train_keys and test_keys and not (train_keys & test_keys)


def test_nested_split_with_its_own_seed_is_not_empty():
    texts = [f"document number {i} has its own opening words and more" for i in range(400)]
    train, _ = split_by_document(texts, texts, 0.5, seed=0)
    same_seed_train, same_seed_valid = split_by_document(train, train, 0.2, seed=0)
    assert same_seed_valid == []  # why roberta's validation split needs a salt of its own
    fit, valid = split_by_document(train, train, 0.2, seed="validation-0")
    assert 0.1 < len(valid) / len(train) < 0.3 and len(fit) + len(valid) == len(train)
